import type { FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import { checkPassword } from '../../auth/password-check.js';
import type { AppContext } from '../../context.js';
import { wellFormed } from '../../domain/names.js';
import { loginName } from '../../domain/principal.js';
import type { Company, User } from '../../store/schema.js';
import { clearThrottle } from '../../store/throttle.js';
import { CsError } from '../errors.js';

export interface LoginSuccess {
  token: string;
  user: User;
  company: Company;
}

export { findAccount } from '../../auth/password-check.js';
export { splitLoginName } from '../../domain/names.js';

/**
 * One login attempt under the lockout policy (src/auth/password-check.ts).
 * Every outcome is audited in the transaction that records it; failures are
 * the same message whether or not the user exists, and cost the same
 * password-hash time.
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
  const { db } = ctx.store;
  const checked = await checkPassword(ctx, 'commserve', now, addr, rawName, password, 'login');
  if (!checked.ok) {
    switch (checked.why) {
      case 'address-throttled':
        throw new CsError('ADDRESS_THROTTLED', undefined, { retryAfter: checked.retryAfter });
      case 'locked':
      case 'locked-now':
        throw new CsError('ACCOUNT_LOCKED', undefined, {
          isAccountLocked: true,
          remainingLockTime: checked.remaining,
        });
      case 'failed':
        throw new CsError('LOGIN_FAILED', undefined, { isAccountLocked: false, loginAttempts: checked.failures });
      case 'disabled':
        throw new CsError('LOGIN_DISABLED');
    }
  }
  const { acctKey } = checked;
  const { user, company } = checked;
  const token = await db.transaction().execute(async (tx) => {
    await clearThrottle(tx, acctKey);
    // Stored as text: well-formed and NUL-free, which both stores keep as given.
    const t = await ctx.sessions.create(tx, user.id, addr, deviceId === null ? null : wellFormed(deviceId));
    await appendAudit(tx, {
      operation: 'login',
      companyId: company.id,
      targetType: 'user',
      targetId: user.id,
      targetName: user.user_name,
      outcome: 'success',
      actor: {
        userId: user.id,
        name: loginName(company.id, company.domain_name, user.user_name),
        companyId: company.id,
      },
      sourceAddr: addr,
      at: now,
    });
    return t;
  });
  return { token, user, company };
}
