import { ACCOUNT_POLICY } from './lockout.js';

/**
 * Passkeys and authorize-for-restore, as documented in the README:
 * - a passkey guards browse and restore at one level: a client, a company, or
 *   the CommCell (company 0); a subclient is guarded by the lowest level that
 *   has one (its client, else its company, else the CommCell);
 * - a new passkey is 8 to 256 characters, not all blank;
 * - an authorize-for-restore window lasts `toTime` seconds, default 1800, at
 *   most 7 days;
 * - wrong passkeys lock passkey operations on that level for that user, with
 *   the login lockout's numbers: 5 wrong in a row lock for 5 minutes, each
 *   further lock doubles, up to 1 hour; a right passkey, or a day without a
 *   wrong one, forgets the history.
 */
export type PasskeyLevel = 'client' | 'company' | 'commcell';

export interface PasskeyTarget {
  level: PasskeyLevel;
  id: number;
}

export const PASSKEY_RULE = '8 to 256 characters, not all blank';

export function passkeyAcceptable(pk: string): boolean {
  return pk.length >= 8 && pk.length <= 256 && pk.trim() !== '';
}

export const AUTHORIZE_DEFAULT_SECONDS = 1800;
export const AUTHORIZE_MAX_SECONDS = 7 * 86_400;

/** The lockout policy of wrong passkeys: the same numbers as an account's (src/domain/lockout.ts). */
export const PASSKEY_LOCK_POLICY = ACCOUNT_POLICY;

/** The throttle key of one user's wrong passkeys at one level, shared by every node (login_throttle). */
export const passkeyLockKey = (t: PasskeyTarget, userId: number) => `passkey:${t.level}:${t.id}:user:${userId}`;

/** A company id as a passkey level: 0 is the CommCell's. */
export const companyLevel = (companyId: number): PasskeyTarget =>
  companyId === 0 ? { level: 'commcell', id: 0 } : { level: 'company', id: companyId };

export type PasskeyOp = 'CREATE' | 'EDIT' | 'DISABLE';

/** `passkeyOpType`: CREATE=1, EDIT=2, DISABLE=3, by name in any case or by number; null for anything else. */
export function parsePasskeyOp(v: unknown): PasskeyOp | null {
  const s = String(v ?? '')
    .trim()
    .toUpperCase();
  if (s === '1' || s === 'CREATE') return 'CREATE';
  if (s === '2' || s === 'EDIT') return 'EDIT';
  if (s === '3' || s === 'DISABLE') return 'DISABLE';
  return null;
}

/** Whether a window that closes at `until` is open at `now`. */
export function windowOpen(until: string | null, now: Date): boolean {
  return until !== null && Date.parse(until) > now.getTime();
}
