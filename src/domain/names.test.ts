import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkName, checkText, nameKey, splitLoginName, wellFormed } from './names.js';

/** Characters a name refuses, one of each kind the rule names. */
const REFUSED = [
  '\u0000',
  '\u0001',
  '\t',
  '\n',
  '\r',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u009f',
  '\u00ad',
  '\u00a0',
  '\u034f',
  '\u061c',
  '\u115f',
  '\u1680',
  '\u180e',
  '\u2000',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u2028',
  '\u2029',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u202f',
  '\u205f',
  '\u2060',
  '\u2061',
  '\u2062',
  '\u2063',
  '\u2064',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u206f',
  '\u2800',
  '\u3000',
  '\u3164',
  '\ufe00',
  '\ufe0f',
  '\ufeff',
  '\uffa0',
  '\ufdd0',
  '\ufffe',
  '\uffff',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\u{e0001}',
  '\u{e0100}',
  '\u{1d173}',
];

/** Text from which anything can come: any code point, lone surrogates, NUL, refused characters, blanks, backslashes. */
const anyUnit = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom(...REFUSED),
  fc.constantFrom(' ', '\\', 'A', 'a', 'é', 'e\u0301', 'ß', 'İ'),
);
const anyText = fc.string({ unit: anyUnit, maxLength: 40 });

/** Whether `s` holds the code point `ch` (a lone surrogate is one; half of a pair is not). */
const holds = (s: string, ch: string) => [...s].includes(ch);
const isWellFormed = (s: string) => !/\p{Cs}/u.test(s);
const utf8RoundTrip = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

describe('checkName', () => {
  it('accepts ordinary names, trimmed and in NFC', () => {
    for (const n of [
      'admin',
      'Tenant Admin',
      'db01.example.com',
      'José',
      'Zoë-O’Brien',
      '山田',
      'ça_va',
      'a-b_c.d@e',
      '💾',
    ]) {
      expect(checkName(n)).toEqual({ ok: true, value: n });
    }
    expect(checkName('  bob \t')).toEqual({ ok: true, value: 'bob' });
    expect(checkName('Jose\u0301')).toEqual({ ok: true, value: 'José' });
  });

  it('refuses empty and blank names and non-text', () => {
    expect(checkName('')).toEqual({ ok: false, problem: 'is empty' });
    expect(checkName(' \t\u3000\ufeff ')).toEqual({ ok: false, problem: 'is empty' });
    expect(checkName(42)).toEqual({ ok: false, problem: 'is not text' });
    expect(checkName(undefined)).toEqual({ ok: false, problem: 'is not text' });
  });

  it('refuses names longer than the limit, counted in characters (code points)', () => {
    expect(checkName('x'.repeat(256)).ok).toBe(true);
    expect(checkName('x'.repeat(257))).toEqual({ ok: false, problem: 'is longer than 256 characters' });
    expect(checkName('💾'.repeat(128), 128).ok).toBe(true);
    expect(checkName('x'.repeat(129), 128)).toEqual({ ok: false, problem: 'is longer than 128 characters' });
  });

  it('refuses every control, lone surrogate, invisible and bidirectional character inside a name, naming it', () => {
    for (const ch of REFUSED) {
      const r = checkName(`ad${ch}min`);
      // NFC comes first: U+2000 EN QUAD is named as the U+2002 EN SPACE it normalizes to.
      const cp = (ch.normalize('NFC').codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
      expect(r, `U+${cp}`).toEqual({ ok: false, problem: expect.stringContaining(`(U+${cp})`) });
    }
    expect(checkName('a\u0009b')).toEqual({ ok: false, problem: 'contains a control character (U+0009)' });
    expect(checkName('x\ud800y')).toEqual({ ok: false, problem: 'contains a lone surrogate (U+D800)' });
    expect(checkName('evil\u202egpj.exe')).toEqual({
      ok: false,
      problem: 'contains a bidirectional formatting character (U+202E)',
    });
    expect(checkName('ad\u200bmin')).toEqual({ ok: false, problem: 'contains an invisible character (U+200B)' });
    expect(checkName('vic\u00a0tim')).toEqual({
      ok: false,
      problem: 'contains a space or separator other than U+0020 (U+00A0)',
    });
  });

  it('property: an accepted name is trimmed, NFC, well-formed, free of refused characters, and accepted unchanged again', () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        const r = checkName(raw);
        if (!r.ok) return;
        const v = r.value;
        expect(v).toBe(v.trim());
        expect(v).toBe(v.normalize('NFC'));
        expect(isWellFormed(v)).toBe(true);
        expect(utf8RoundTrip(v)).toBe(v);
        for (const ch of REFUSED) expect(holds(v, ch)).toBe(false);
        expect(checkName(v)).toEqual({ ok: true, value: v });
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a name holding a lone surrogate, a control or an invisible character is refused', () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        const inner = raw.trim().normalize('NFC');
        const hasBad = REFUSED.some((ch) => ch !== '\t' && ch !== '\n' && ch !== '\r' && holds(inner, ch));
        if (hasBad) expect(checkName(raw).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('checkText (descriptions)', () => {
  it('keeps tab, line breaks and any space, refuses other controls, surrogates, invisible and bidi characters', () => {
    expect(checkText('line 1\nline 2\r\n\ttabbed\u00a0nbsp')).toEqual({
      ok: true,
      value: 'line 1\nline 2\r\n\ttabbed\u00a0nbsp',
    });
    expect(checkText('')).toEqual({ ok: true, value: '' });
    for (const ch of ['\u0000', '\u0001', '\u007f', '\u200b', '\u202e', '\u2066', '\ufeff', '\ud800', '\u2028']) {
      expect(checkText(`a${ch}b`).ok, ch.codePointAt(0)?.toString(16)).toBe(false);
    }
    expect(checkText('x'.repeat(1025))).toEqual({ ok: false, problem: 'is longer than 1024 characters' });
  });
});

describe('nameKey', () => {
  it('folds case, blanks around the name and the Unicode composition', () => {
    expect(nameKey('  Admin\t')).toBe('admin');
    expect(nameKey('JOSÉ')).toBe(nameKey('jose\u0301'));
    expect(nameKey('Tenant Admin')).toBe('tenant admin');
  });

  it('property: a key is well-formed, NUL-free, survives UTF-8 unchanged, and is its own key', () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        const k = nameKey(raw);
        expect(isWellFormed(k)).toBe(true);
        expect(k.includes('\u0000')).toBe(false);
        expect(utf8RoundTrip(k)).toBe(k);
        expect(nameKey(k)).toBe(k);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: every spelling of a name (case, surrounding blanks, NFC or NFD) has the one key of its stored form', () => {
    const blanks = fc.string({ unit: fc.constantFrom(' ', '\t', '\u3000', '\n'), maxLength: 3 });
    const letters = fc.string({
      unit: fc.constantFrom('a', 'B', 'z', '0', '-', '.', ' ', 'é', 'Ü', 'ñ', 'Å', '山'),
      minLength: 1,
      maxLength: 20,
    });
    fc.assert(
      fc.property(letters, blanks, blanks, fc.boolean(), fc.boolean(), (name, before, after, upper, nfd) => {
        const stored = checkName(name);
        fc.pre(stored.ok);
        if (!stored.ok) return;
        let typed = upper ? name.toUpperCase() : name.toLowerCase();
        if (nfd) typed = typed.normalize('NFD');
        expect(nameKey(`${before}${typed}${after}`)).toBe(nameKey(stored.value));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('splitLoginName', () => {
  it('splits at the first backslash, trims both parts, and an empty domain is no domain', () => {
    expect(splitLoginName('admin')).toEqual({ domain: null, user: 'admin' });
    expect(splitLoginName('acme\\victim')).toEqual({ domain: 'acme', user: 'victim' });
    expect(splitLoginName('acme\\ victim')).toEqual({ domain: 'acme', user: 'victim' });
    expect(splitLoginName('acme\\\tvictim')).toEqual({ domain: 'acme', user: 'victim' });
    expect(splitLoginName(' acme \\victim')).toEqual({ domain: 'acme', user: 'victim' });
    expect(splitLoginName('\\admin')).toEqual({ domain: null, user: 'admin' });
    expect(splitLoginName(' \\ admin')).toEqual({ domain: null, user: 'admin' });
    expect(splitLoginName('a\\b\\c')).toEqual({ domain: 'a', user: 'b\\c' });
  });

  it('property: blanks around either part never change what a login name names', () => {
    const part = fc.string({ unit: fc.constantFrom('a', 'B', 'é', '1', '.', '-'), minLength: 1, maxLength: 8 });
    const blanks = fc.string({ unit: fc.constantFrom(' ', '\t', '\u00a0', '\ufeff'), maxLength: 3 });
    fc.assert(
      fc.property(part, part, blanks, blanks, blanks, blanks, (d, u, b1, b2, b3, b4) => {
        expect(splitLoginName(`${b1}${d}${b2}\\${b3}${u}${b4}`)).toEqual(splitLoginName(`${d}\\${u}`));
        expect(splitLoginName(`${b1}\\${b3}${u}${b4}`)).toEqual(splitLoginName(u));
      }),
    );
  });
});

describe('wellFormed', () => {
  it('replaces lone surrogates and NUL with U+FFFD and keeps everything else', () => {
    expect(wellFormed('x\ud800y')).toBe('x\ufffdy');
    expect(wellFormed('\udc00\ud800')).toBe('\ufffd\ufffd');
    expect(wellFormed('a\u0000b')).toBe('a\ufffdb');
    expect(wellFormed('💾 ok\t\n')).toBe('💾 ok\t\n');
  });

  it('property: the result is well-formed, NUL-free, the same length, survives UTF-8, and is a fixed point', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const w = wellFormed(s);
        expect(isWellFormed(w)).toBe(true);
        expect(w.includes('\u0000')).toBe(false);
        expect(w.length).toBe(s.length);
        expect(utf8RoundTrip(w)).toBe(w);
        expect(wellFormed(w)).toBe(w);
        if (isWellFormed(s) && !s.includes('\u0000')) expect(w).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});
