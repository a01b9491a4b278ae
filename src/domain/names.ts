/**
 * Names: which text a name may be, the one form it is stored in, and the one
 * key it is looked up, kept unique and locked out by. Every place that reads
 * a name (users, user groups, roles, entities, companies, login) goes through
 * here, so two spellings that look alike are either the same key or refused.
 *
 * - Stored form: trimmed, Unicode NFC (so `é` typed precomposed or as `e`
 *   plus a combining accent is one name).
 * - Key: the stored form lower-cased (`toLowerCase`, then NFC again), of text
 *   made well-formed first, so a lookup never sends a store text it cannot
 *   hold (a lone surrogate, a NUL).
 * - Refused in names: control characters, lone surrogates, format characters
 *   (zero-width, bidirectional controls, BOM…), every other default-ignorable
 *   (invisible) code point, line and paragraph separators, spaces other than
 *   U+0020, noncharacters and U+2800 (braille blank). Descriptions follow the
 *   same rule but may hold tab, line feed, carriage return and any space.
 */

export type Checked = { ok: true; value: string } | { ok: false; problem: string };

/** What a name may not hold. */
const REFUSED_IN_NAME =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800]/u;

/** What free text (a description) may not hold: tab, LF, CR and spaces are allowed. */
const REFUSED_IN_TEXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\u2800]/u;

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const SPACE = /[\p{Zs}\p{Zl}\p{Zp}]/u;

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** A phrase naming the refused character, for an error message ("contains a control character (U+0009)"). */
function describe(ch: string): string {
  const cp = ch.codePointAt(0) as number;
  const what =
    cp >= 0xd800 && cp <= 0xdfff
      ? 'a lone surrogate'
      : /\p{Cc}/u.test(ch)
        ? 'a control character'
        : BIDI.test(ch)
          ? 'a bidirectional formatting character'
          : SPACE.test(ch)
            ? 'a space or separator other than U+0020'
            : /\p{Noncharacter_Code_Point}/u.test(ch)
              ? 'a noncharacter'
              : 'an invisible character';
  return `contains ${what} (${hex(cp)})`;
}

const codePoints = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/**
 * A name as it is stored (trimmed, NFC), or why it is not acceptable: empty,
 * longer than `max` characters (code points), or holding a refused character.
 */
export function checkName(raw: unknown, max = 256): Checked {
  if (typeof raw !== 'string') return { ok: false, problem: 'is not text' };
  const value = raw.trim().normalize('NFC');
  if (value === '') return { ok: false, problem: 'is empty' };
  const bad = REFUSED_IN_NAME.exec(value);
  if (bad) return { ok: false, problem: describe(bad[0]) };
  if (codePoints(value) > max) return { ok: false, problem: `is longer than ${max} characters` };
  return { ok: true, value };
}

/** Free text such as a description, kept as given, or why it is not acceptable. */
export function checkText(raw: string, max = 1024): Checked {
  const bad = REFUSED_IN_TEXT.exec(raw);
  if (bad) return { ok: false, problem: describe(bad[0]) };
  if (codePoints(raw) > max) return { ok: false, problem: `is longer than ${max} characters` };
  return { ok: true, value: raw };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this replaces
const ILL_FORMED = /[\p{Cs}\u0000]/gu;

/**
 * `text` with every lone surrogate and NUL replaced by U+FFFD: what both
 * stores keep exactly as given (SQLite and PostgreSQL store UTF-8, which has
 * no lone surrogates; PostgreSQL text refuses NUL).
 */
export function wellFormed(text: string): string {
  ILL_FORMED.lastIndex = 0;
  return ILL_FORMED.test(text) ? text.replace(ILL_FORMED, '\ufffd') : text;
}

/** The key a name is unique by and looked up by: well-formed, trimmed, NFC, lower case. */
export function nameKey(name: string): string {
  return wellFormed(name).trim().normalize('NFC').toLowerCase().normalize('NFC');
}

/**
 * `domain\user` names a company's user; a bare name, or one with nothing
 * before the backslash (`\admin`), has no domain. Both parts are trimmed and
 * NFC. Which company a domain names is the store's business (`commcell`
 * names the CommCell itself).
 */
export function splitLoginName(raw: string): { domain: string | null; user: string } {
  const i = raw.indexOf('\\');
  const user = (i < 0 ? raw : raw.slice(i + 1)).trim().normalize('NFC');
  const domain = i < 0 ? '' : raw.slice(0, i).trim().normalize('NFC');
  return { domain: domain === '' ? null : domain, user };
}
