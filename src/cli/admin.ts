import { appendAudit } from '../audit/log.js';
import { findAccount, splitLoginName } from '../commserve/login/login.js';
import { hashSecret } from '../crypto/passwords.js';
import { randomHex } from '../crypto/secrets.js';
import { accountLockKey } from '../domain/lockout.js';
import { PASSWORD_RULE, passwordAcceptable } from '../domain/password-policy.js';
import { notifyChange } from '../store/changes.js';
import type { Store } from '../store/db.js';
import { companyByDomain } from '../store/directory.js';
import { clearThrottle } from '../store/throttle.js';
import { CliError } from './errors.js';

/**
 * Sets a user's password from the command line (the way back in when every
 * administrator is locked out): revokes the user's sessions, lifts a lock,
 * and audits, all in one transaction. Returns the password if generated.
 */
export async function resetPassword(store: Store, login: string, given: string | null): Promise<string | null> {
  // The same resolution as Login, so the lock lifted is the one Login counts.
  const { account } = await findAccount(store.db, login);
  if (!account) {
    const { domain } = splitLoginName(login);
    if (domain !== null && !(await companyByDomain(store.db, domain))) {
      throw new CliError(`no company with domain name ${domain}`);
    }
    throw new CliError(`no user ${login}`);
  }
  const { user: u, company } = account;
  const password = given ?? randomHex(12);
  if (!passwordAcceptable(password)) throw new CliError(`the password must be ${PASSWORD_RULE}`);
  const hash = await hashSecret(password);
  const now = new Date();
  await store.db.transaction().execute(async (tx) => {
    await tx
      .updateTable('users')
      .set({ password_hash: hash, password_changed_at: now.toISOString(), enabled: 1 })
      .where('id', '=', u.id)
      .execute();
    await tx
      .updateTable('sessions')
      .set({ revoked_at: now.toISOString() })
      .where('user_id', '=', u.id)
      .where('revoked_at', 'is', null)
      .execute();
    await notifyChange(tx, { kind: 'user', ids: [u.id] });
    await clearThrottle(tx, accountLockKey(u.id));
    await appendAudit(tx, {
      actor: { userId: null, name: 'bulwark admin reset-password', companyId: null },
      companyId: company.id,
      operation: 'admin.reset-password',
      targetType: 'user',
      targetId: u.id,
      targetName: u.user_name,
      outcome: 'success',
      reason: 'password reset from the command line; sessions revoked, lock lifted',
      at: now,
    });
  });
  return given === null ? password : null;
}
