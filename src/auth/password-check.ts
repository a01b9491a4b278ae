import { type AuditEntry, appendAudit } from '../audit/log.js';
import { burnVerify, verifySecret } from '../crypto/passwords.js';
import {
  accountFailure,
  accountLockKey,
  addressFailure,
  addressLockKey,
  lockRemaining,
  unknownNameLockKey,
} from '../domain/lockout.js';
import { nameKey, splitLoginName } from '../domain/names.js';
import type { LoginDialect, LoginOutcome, Metrics } from '../metrics.js';
import type { Executor, Store } from '../store/db.js';
import { companyByDomain, userByName } from '../store/directory.js';
import type { Company, User } from '../store/schema.js';
import { COMMCELL_ID } from '../store/schema.js';
import { clearThrottle, readThrottle, writeThrottle } from '../store/throttle.js';

/**
 * A name and password checked under the one lockout policy
 * (src/domain/lockout.ts), whichever dialect they came through: a failure
 * through the file-devices dialect counts toward the same account and address
 * locks as a CommServe login. Each dialect turns the outcome into its own error.
 */
export type PasswordOutcome =
  | { ok: true; user: User; company: Company; acctKey: string; hadFailures: boolean }
  | { ok: false; why: 'address-throttled'; retryAfter: number }
  | { ok: false; why: 'locked'; remaining: number }
  | { ok: false; why: 'failed'; failures: number }
  | { ok: false; why: 'locked-now'; remaining: number }
  | { ok: false; why: 'disabled'; user: User; company: Company };

/**
 * What a login name names: the account, if any, and the key its lockout is
 * counted under. Every spelling of one account (case, blanks around either
 * part, `\admin` or `commcell\admin` for `admin`) resolves to the same user
 * and so the same key; a name that names no user is keyed by its canonical
 * form (company resolved, parts keyed), so its spellings count together too.
 */
export async function findAccount(
  db: Executor,
  raw: string,
): Promise<{ account: { user: User; company: Company } | null; lockKey: string }> {
  const { domain, user } = splitLoginName(raw);
  const company =
    domain === null
      ? await db.selectFrom('companies').selectAll().where('id', '=', COMMCELL_ID).executeTakeFirst()
      : await companyByDomain(db, domain);
  const u = company && user !== '' ? await userByName(db, company.id, user) : undefined;
  if (company && u) return { account: { user: u, company }, lockKey: accountLockKey(u.id) };
  const domainKey = company ? (company.id === COMMCELL_ID ? null : company.domain_key) : nameKey(domain ?? '');
  return {
    account: null,
    lockKey: unknownNameLockKey(domainKey === null ? nameKey(user) : `${domainKey}\\${nameKey(user)}`),
  };
}

const OUTCOME_METRIC: Record<Extract<PasswordOutcome, { ok: false }>['why'] | 'ok', LoginOutcome> = {
  ok: 'success',
  'address-throttled': 'address_blocked',
  locked: 'account_locked',
  'locked-now': 'bad_credentials',
  failed: 'bad_credentials',
  disabled: 'disabled',
};

/**
 * Checks a password; every failure is audited (as `operation`) in the
 * transaction that counts it. Success writes nothing, so the caller records
 * it with what it does next (a session, or nothing for a per-request check);
 * it clears the account's failures only when there were some.
 *
 * The one place logins and lockouts are counted in the metrics, for both
 * dialects (`bulwark_logins_total{dialect,outcome}`,
 * `bulwark_lockouts_total{kind="account"|"address"}`): a CommServe Login is
 * one login; a file-devices request authenticated by password is one too.
 */
export async function checkPassword(
  env: { store: Store; metrics: Metrics },
  dialect: LoginDialect,
  now: Date,
  addr: string,
  rawName: string,
  password: string,
  operation: string,
  details?: Record<string, unknown>,
): Promise<PasswordOutcome> {
  const out = await check(env.store, env.metrics, now, addr, rawName, password, operation, details);
  env.metrics.logins.inc({ dialect, outcome: OUTCOME_METRIC[out.ok ? 'ok' : out.why] });
  if (!out.ok && out.why === 'locked-now') env.metrics.lockouts.inc({ kind: 'account' });
  return out;
}

async function check(
  store: Store,
  metrics: Metrics,
  now: Date,
  addr: string,
  rawName: string,
  password: string,
  operation: string,
  details?: Record<string, unknown>,
): Promise<PasswordOutcome> {
  const { db } = store;
  const addrKey = addressLockKey(addr);
  const audit = (e: Omit<AuditEntry, 'at' | 'sourceAddr' | 'actor' | 'operation'>): AuditEntry => ({
    ...e,
    operation,
    actor: { userId: null, name: rawName, companyId: null },
    sourceAddr: addr,
    at: now,
    ...(details ? { details: { ...details, ...e.details } } : {}),
  });

  const addrWait = lockRemaining(await readThrottle(db, addrKey), now);
  if (addrWait > 0) {
    await db
      .transaction()
      .execute((tx) =>
        appendAudit(tx, audit({ outcome: 'failure', reason: 'source address blocked after repeated failures' })),
      );
    return { ok: false, why: 'address-throttled', retryAfter: addrWait };
  }
  const { account, lockKey: acctKey } = await findAccount(db, rawName);
  const acctState = await readThrottle(db, acctKey);
  const acctWait = lockRemaining(acctState, now);
  if (acctWait > 0) {
    await db.transaction().execute((tx) => appendAudit(tx, audit({ outcome: 'failure', reason: 'account locked' })));
    return { ok: false, why: 'locked', remaining: acctWait };
  }

  const ok =
    account?.user.password_hash && password !== ''
      ? await verifySecret(account.user.password_hash, password)
      : await burnVerify(password);

  if (!ok || !account) {
    let blockedNow = false;
    const outcome = await db.transaction().execute(async (tx) => {
      const acct = accountFailure(await readThrottle(tx, acctKey), now);
      const adr = addressFailure(await readThrottle(tx, addrKey), now);
      blockedNow = adr.blockedNow;
      await writeThrottle(tx, acctKey, acct.state);
      await writeThrottle(tx, addrKey, adr.state);
      const companyId = account?.company.id ?? null;
      await appendAudit(tx, audit({ companyId, outcome: 'failure', reason: 'invalid username or password' }));
      if (acct.lockedNow) {
        await appendAudit(tx, {
          ...audit({
            companyId,
            targetType: 'user',
            targetId: account?.user.id ?? '',
            targetName: rawName,
            outcome: 'success',
            reason: 'locked after repeated failed logins',
            details: { lockedUntil: acct.state.lockedUntil?.toISOString() },
          }),
          operation: 'account.lock',
        });
      }
      return acct;
    });
    // Counted after the commit: a transaction retried does not count twice.
    if (blockedNow) metrics.lockouts.inc({ kind: 'address' });
    if (outcome.lockedNow) return { ok: false, why: 'locked-now', remaining: lockRemaining(outcome.state, now) };
    return { ok: false, why: 'failed', failures: outcome.state.failures };
  }

  const { user, company } = account;
  if (user.enabled !== 1 || company.disable_login === 1) {
    await db
      .transaction()
      .execute((tx) => appendAudit(tx, audit({ companyId: company.id, outcome: 'failure', reason: 'login disabled' })));
    return { ok: false, why: 'disabled', user, company };
  }
  return { ok: true, user, company, acctKey, hadFailures: acctState !== null };
}

/** Forgets an account's failures after a successful check (inside the caller's transaction, or alone). */
export async function forgetFailures(db: Executor, acctKey: string): Promise<void> {
  await clearThrottle(db, acctKey);
}
