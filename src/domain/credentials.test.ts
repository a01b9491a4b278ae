import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { userKey } from './credentials.js';

// The matching rule of User/AccountManagement (README "Account management"):
// one pure function, userKey; two names are one account exactly when their keys are equal.

/** A name part: letters, digits and the punctuation account names hold; no `\` or `@`, not blank. */
const part = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._$-]{0,14}$/).filter((s) => s !== '.' && s.trim() !== '');
const blanks = fc.constantFrom('', ' ', '  ');
const recase = (s: string, flips: boolean[]) =>
  [...s].map((c, i) => (flips[i % Math.max(flips.length, 1)] ? c.toUpperCase() : c.toLowerCase())).join('');

describe('userKey', () => {
  it('DOMAIN\\user and user@DOMAIN are one key, whatever the case and the blanks around the parts', () => {
    fc.assert(
      fc.property(part, part, fc.array(fc.boolean(), { minLength: 1 }), blanks, blanks, (d, u, flips, b1, b2) => {
        const k = userKey(`${d}\\${u}`);
        expect(userKey(`${u}@${d}`)).toBe(k);
        expect(userKey(`${b1}${recase(d, flips)}${b2}\\${b2}${recase(u, flips)}${b1}`)).toBe(k);
        expect(userKey(`${b1}${recase(u, flips)}${b2}@${b1}${recase(d, flips)}`)).toBe(k);
        expect(k).toBe(`${d.toLowerCase()}\\${u.toLowerCase()}`);
      }),
    );
  });

  it('a bare name, .\\name and \\name are the local account, never any domain account', () => {
    fc.assert(
      fc.property(part, part, (d, u) => {
        const local = userKey(u);
        expect(userKey(`.\\${u}`)).toBe(local);
        expect(userKey(`\\${u}`)).toBe(local);
        expect(local).not.toBe(userKey(`${d}\\${u}`));
        expect(local).not.toBe(userKey(`${u}@${d}`));
      }),
    );
  });

  it('different users or different domains are different keys (a DNS name is not its NetBIOS name)', () => {
    fc.assert(
      fc.property(part, part, part, (d, u, v) => {
        fc.pre(u.toLowerCase() !== v.toLowerCase());
        expect(userKey(`${d}\\${u}`)).not.toBe(userKey(`${d}\\${v}`));
        expect(userKey(`${u}@${d}`)).not.toBe(userKey(`${v}@${d}`));
        expect(userKey(`${u}@${d}.example.com`)).not.toBe(userKey(`${d}\\${u}`));
      }),
    );
  });

  it('is idempotent, and no name but an empty one has the empty key', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.string({ unit: fc.constantFrom('\\', '@', '.', ' ', 'a', 'B', '\u00e9'), maxLength: 12 }),
        ),
        (s) => {
          const k = userKey(s);
          expect(userKey(k)).toBe(k);
          const hasUser = s.includes('\\') ? s.slice(s.indexOf('\\') + 1).trim() !== '' : s.trim() !== '';
          expect(k === '').toBe(!hasUser);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the examples the README gives', () => {
    expect(userKey('PRODCERT\\Admin')).toBe('prodcert\\admin');
    expect(userKey('admin@PRODCERT')).toBe('prodcert\\admin');
    expect(userKey('admin@prodcert.example.com')).toBe('prodcert.example.com\\admin');
    expect(userKey('.\\Admin')).toBe('admin');
    expect(userKey('@svc')).toBe('@svc');
    expect(userKey('svc@')).toBe('svc@');
    expect(userKey('a@b@corp')).toBe('corp\\a@b');
    expect(userKey('\\svc@corp')).toBe('\\svc@corp');
    expect(userKey('.\\svc@corp')).not.toBe(userKey('svc@corp'));
    expect(userKey('prodcert\\')).toBe('');
    expect(userKey('   ')).toBe('');
  });
});
