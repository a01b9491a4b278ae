/**
 * Login throttling policy, as documented in the README:
 * - an account (or an unknown login name, so locking reveals nothing about
 *   which names exist) locks after 5 failures in a row; the first lock lasts
 *   5 minutes and each further lock doubles it, up to 1 hour; a successful
 *   login, or a day without failures, forgets the history;
 * - a source address is blocked for 15 minutes after 30 failures within 15
 *   minutes, whatever names it tried.
 */
export const ACCOUNT_POLICY = {
  maxFailures: 5,
  baseLockSeconds: 300,
  maxLockSeconds: 3600,
  forgetAfterSeconds: 86_400,
} as const;

/**
 * The throttle key of an account: its user, whatever spelling of its name
 * was typed (`acme\victim`, `ACME\ victim`, `commcell\admin` for `admin`).
 */
export const accountLockKey = (userId: number) => `acct:user:${userId}`;

/**
 * The throttle key of a login name that names no user: its canonical form
 * (see `src/domain/names.ts`), so every spelling of it counts together.
 */
export const unknownNameLockKey = (canonical: string) => `acct:name:${canonical}`;

/**
 * The throttle key of a caller's User/AccountManagement old-password checks:
 * wrong old passwords lock the operation for that caller under ACCOUNT_POLICY
 * (its login is not locked; a compromised session cannot guess on).
 */
export const accountManagementLockKey = (userId: number) => `acctmgmt:user:${userId}`;

/** The throttle key of a source address. */
export const addressLockKey = (addr: string) => `addr:${addr}`;

export const ADDRESS_POLICY = {
  maxFailures: 30,
  windowSeconds: 900,
  blockSeconds: 900,
} as const;

export interface ThrottleState {
  failures: number;
  windowStartedAt: Date;
  lockedUntil: Date | null;
  lockCount: number;
}

/** Whole seconds until the lock ends; 0 when not locked. */
export function lockRemaining(state: ThrottleState | null, now: Date): number {
  if (!state?.lockedUntil) return 0;
  const ms = state.lockedUntil.getTime() - now.getTime();
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

export function lockSeconds(lockCount: number): number {
  return Math.min(ACCOUNT_POLICY.baseLockSeconds * 2 ** lockCount, ACCOUNT_POLICY.maxLockSeconds);
}

export function accountFailure(prev: ThrottleState | null, now: Date): { state: ThrottleState; lockedNow: boolean } {
  const stale = !prev || now.getTime() - prev.windowStartedAt.getTime() > ACCOUNT_POLICY.forgetAfterSeconds * 1000;
  const base: ThrottleState = stale
    ? { failures: 0, windowStartedAt: now, lockedUntil: null, lockCount: 0 }
    : { ...prev, windowStartedAt: now };
  const failures = base.failures + 1;
  if (failures >= ACCOUNT_POLICY.maxFailures) {
    const until = new Date(now.getTime() + lockSeconds(base.lockCount) * 1000);
    return {
      state: { failures: 0, windowStartedAt: now, lockedUntil: until, lockCount: base.lockCount + 1 },
      lockedNow: true,
    };
  }
  return { state: { ...base, failures }, lockedNow: false };
}

export function addressFailure(prev: ThrottleState | null, now: Date): { state: ThrottleState; blockedNow: boolean } {
  const expired = !prev || now.getTime() - prev.windowStartedAt.getTime() > ADDRESS_POLICY.windowSeconds * 1000;
  const base: ThrottleState = expired
    ? { failures: 0, windowStartedAt: now, lockedUntil: null, lockCount: prev?.lockCount ?? 0 }
    : prev;
  const failures = base.failures + 1;
  if (failures >= ADDRESS_POLICY.maxFailures) {
    const until = new Date(now.getTime() + ADDRESS_POLICY.blockSeconds * 1000);
    return {
      state: { failures: 0, windowStartedAt: now, lockedUntil: until, lockCount: base.lockCount + 1 },
      blockedNow: true,
    };
  }
  return { state: { ...base, failures }, blockedNow: false };
}
