/**
 * What a whole-body entity update (cvpysdk sends back the properties it read,
 * with its change) means for the entity's account: cvpysdk reads
 * `impersonateUser: {userName}` (never a password) and sends it back as it
 * was, so the same user name without a password is no change.
 */
export type AccountChange =
  | { op: 'none' }
  | { op: 'set'; userName: string; password: string }
  | { op: 'rename'; userName: string }
  | { op: 'clear' }
  | { op: 'refuse'; problem: string };

/**
 * `current`: the stored user name (null: no account). `userName` undefined:
 * not sent; '' clears. `password` undefined or '': not sent.
 */
export function accountChange(
  current: string | null,
  userName: string | undefined,
  password: string | undefined,
): AccountChange {
  const hasPassword = password !== undefined && password !== '';
  if (userName === undefined) {
    if (!hasPassword) return { op: 'none' };
    if (current === null) return { op: 'refuse', problem: 'a password needs its userName' };
    return { op: 'set', userName: current, password };
  }
  if (userName === '') {
    if (hasPassword) return { op: 'refuse', problem: 'a password needs its userName' };
    return current === null ? { op: 'none' } : { op: 'clear' };
  }
  if (hasPassword) return { op: 'set', userName, password };
  if (current === null) return { op: 'refuse', problem: 'a new account needs its password' };
  return userName === current ? { op: 'none' } : { op: 'rename', userName };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
export const ACCOUNT_SECRET_MAX = 4096;

/**
 * A password as JSON carries it in this dialect (base64 of UTF-8), checked:
 * the text, or what is wrong (never the text itself).
 */
export function decodeAccountPassword(raw: unknown): { ok: true; value: string } | { ok: false; problem: string } {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, problem: 'must be base64 of the password' };
  const compact = raw.trim();
  if (!BASE64.test(compact)) return { ok: false, problem: 'is not valid base64' };
  let value: string;
  try {
    value = utf8.decode(Buffer.from(compact, 'base64'));
  } catch {
    return { ok: false, problem: 'does not decode to UTF-8 text' };
  }
  if (value.trim() === '') return { ok: false, problem: 'must not be blank' };
  if ([...value].length > ACCOUNT_SECRET_MAX) {
    return { ok: false, problem: `is longer than ${ACCOUNT_SECRET_MAX} characters` };
  }
  return { ok: true, value };
}
