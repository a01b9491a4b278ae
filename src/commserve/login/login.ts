import type { FastifyRequest } from 'fastify';
import { type AuditEntry, appendAudit } from '../../audit/log.js';
import type { AppContext } from '../../context.js';
import { burnVerify, verifySecret } from '../../crypto/passwords.js';
import { accountFailure, addressFailure, lockRemaining } from '../../domain/lockout.js';
import { loginName } from '../../domain/principal.js';
import { companyByDomain, nameKey, userByName } from '../../store/directory.js';
import type { Company, User } from '../../store/schema.js';
import { COMMCELL_ID } from '../../store/schema.js';
import { clearThrottle, readThrottle, writeThrottle } from '../../store/throttle.js';
import { CsError } from '../errors.js';

export interface LoginSuccess {
  token: string;
  user: User;
  company: Company;
}

/** `domain\user` names a company's user; a bare name is a CommCell user. */
export function splitLoginName(raw: string): { domain: string | null; user: string } {
  const i = raw.indexOf('\\');
  return i < 0 ? { domain: null, user: raw.trim() } : { domain: raw.slice(0, i).trim(), user: raw.slice(i + 1).trim() };
}

async function findAccount(ctx: AppContext, raw: string): Promise<{ user: User; company: Company } | null> {
  const { db } = ctx.store;
  const { domain, user } = splitLoginName(raw);
  if (user === '') return null;
  const company = domain
    ? await companyByDomain(db, domain)
    : await db.selectFrom('companies').selectAll().where('id', '=', COMMCELL_ID).executeTakeFirst();
  if (!company) return null;
  const u = await userByName(db, company.id, user);
  return u ? { user: u, company } : null;
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
  const acctKey = `acct:${nameKey(rawName)}`;
  const addrKey = `addr:${addr}`;
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
  const acctState = await readThrottle(db, acctKey);
  const acctWait = lockRemaining(acctState, now);
  if (acctWait > 0) {
    await db
      .transaction()
      .execute((tx) => appendAudit(tx, audit({ operation: 'login', outcome: 'failure', reason: 'account locked' })));
    throw new CsError('ACCOUNT_LOCKED', undefined, { isAccountLocked: true, remainingLockTime: acctWait });
  }

  const account = await findAccount(ctx, rawName);
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
    const t = await ctx.sessions.create(tx, user.id, addr, deviceId);
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
