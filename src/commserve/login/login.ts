import type { FastifyRequest } from 'fastify';
import { type AuditEntry, appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { burnVerify, verifySecret } from '../../crypto/passwords.js';
import {
  accountFailure,
  accountLockKey,
  addressFailure,
  addressLockKey,
  lockRemaining,
  unknownNameLockKey,
} from '../../domain/lockout.js';
import { nameKey, splitLoginName, wellFormed } from '../../domain/names.js';
import { loginName } from '../../domain/principal.js';
import type { Executor } from '../../store/db.js';
import { companyByDomain, userByName } from '../../store/directory.js';
import type { Company, User } from '../../store/schema.js';
import { COMMCELL_ID } from '../../store/schema.js';
import { clearThrottle, readThrottle, writeThrottle } from '../../store/throttle.js';
import { CsError } from '../errors.js';

export interface LoginSuccess {
  token: string;
  user: User;
  company: Company;
}

export { splitLoginName } from '../../domain/names.js';

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

/**
 * One login attempt under the lockout policy. Every outcome is audited in the
 * transaction that records it; failures are the same message whether or not
 * the user exists, and cost the same password-hash time.
 */
export async function attemptLogin(
  ctx: AppContext,
  req: FastifyRequest,
  rawName: string,
  password: string,
  deviceId: string | null,
): Promise<LoginSuccess> {
  const now = ctx.clock();
  const addr = req.ip;
  const addrKey = addressLockKey(addr);
  const { db } = ctx.store;
  const audit = (e: Omit<AuditEntry, 'at' | 'sourceAddr' | 'actor'>, actor: AuditEntry['actor'] = null) => ({
    ...e,
    actor: actor ?? { userId: null, name: rawName, companyId: null },
    sourceAddr: addr,
    at: now,
  });

  const addrState = await readThrottle(db, addrKey);
  const addrWait = lockRemaining(addrState, now);
  if (addrWait > 0) {
    await db
      .transaction()
      .execute((tx) =>
        appendAudit(
          tx,
          audit({ operation: 'login', outcome: 'failure', reason: 'source address blocked after repeated failures' }),
        ),
      );
    throw new CsError('ADDRESS_THROTTLED', undefined, { retryAfter: addrWait });
  }
  const { account, lockKey: acctKey } = await findAccount(db, rawName);
  const acctState = await readThrottle(db, acctKey);
  const acctWait = lockRemaining(acctState, now);
  if (acctWait > 0) {
    await db
      .transaction()
      .execute((tx) => appendAudit(tx, audit({ operation: 'login', outcome: 'failure', reason: 'account locked' })));
    throw new CsError('ACCOUNT_LOCKED', undefined, { isAccountLocked: true, remainingLockTime: acctWait });
  }

  const ok =
    account?.user.password_hash && password !== ''
      ? await verifySecret(account.user.password_hash, password)
      : await burnVerify(password);

  if (!ok || !account) {
    const outcome = await db.transaction().execute(async (tx) => {
      const acct = accountFailure(await readThrottle(tx, acctKey), now);
      const adr = addressFailure(await readThrottle(tx, addrKey), now);
      await writeThrottle(tx, acctKey, acct.state);
      await writeThrottle(tx, addrKey, adr.state);
      const companyId = account?.company.id ?? null;
      await appendAudit(
        tx,
        audit({ operation: 'login', companyId, outcome: 'failure', reason: 'invalid username or password' }),
      );
      if (acct.lockedNow) {
        await appendAudit(
          tx,
          audit({
            operation: 'account.lock',
            companyId,
            targetType: 'user',
            targetId: account?.user.id ?? '',
            targetName: rawName,
            outcome: 'success',
            reason: 'locked after repeated failed logins',
            details: { lockedUntil: acct.state.lockedUntil?.toISOString() },
          }),
        );
      }
      return acct;
    });
    if (outcome.lockedNow) {
      throw new CsError('ACCOUNT_LOCKED', undefined, {
        isAccountLocked: true,
        remainingLockTime: lockRemaining(outcome.state, now),
      });
    }
    throw new CsError('LOGIN_FAILED', undefined, { isAccountLocked: false, loginAttempts: outcome.state.failures });
  }

  const { user, company } = account;
  if (user.enabled !== 1 || company.disable_login === 1) {
    await db
      .transaction()
      .execute((tx) =>
        appendAudit(
          tx,
          audit({ operation: 'login', companyId: company.id, outcome: 'failure', reason: 'login disabled' }),
        ),
      );
    throw new CsError('LOGIN_DISABLED');
  }
  const token = await db.transaction().execute(async (tx) => {
    await clearThrottle(tx, acctKey);
    // Stored as text: well-formed and NUL-free, which both stores keep as given.
    const t = await ctx.sessions.create(tx, user.id, addr, deviceId === null ? null : wellFormed(deviceId));
    await appendAudit(
      tx,
      audit(
        {
          operation: 'login',
          companyId: company.id,
          targetType: 'user',
          targetId: user.id,
          targetName: user.user_name,
          outcome: 'success',
        },
        { userId: user.id, name: loginName(company.id, company.domain_name, user.user_name), companyId: company.id },
      ),
    );
    return t;
  });
  return { token, user, company };
}
