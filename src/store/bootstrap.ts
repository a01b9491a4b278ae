import { randomBytes } from 'node:crypto';
import { appendAudit } from '../audit/log.js';
import { hashSecret } from '../crypto/passwords.js';
import { newGuid } from '../crypto/secrets.js';
import { bumpAuthzVersion, grant } from './authz.js';
import type { Store } from './db.js';
import { addMember, createGroup, createUser } from './directory.js';
import { COMMCELL_ID } from './schema.js';

/**
 * The password Bulwark makes up for admin on a new database: 48 random bytes
 * as 64 base64url characters (no character that JSON, XML or a shell would
 * need escaped). It is read from its file and pasted, never typed, so its
 * length costs nothing.
 */
export function generatePassword(): string {
  return randomBytes(48).toString('base64url');
}

export interface BootstrapOptions {
  /**
   * Called with a generated password inside the transaction that creates
   * admin, so that if keeping it fails (say, writing its file), nothing is
   * created and the next start tries again.
   */
  keepGenerated?(password: string): void | Promise<void>;
}

export interface BootstrapResult {
  created: boolean;
  /** Set only when Bulwark generated the password (and gave it to `keepGenerated`). */
  generatedPassword: string | null;
}

/**
 * On a new database: the CommCell (company 0), its master group, and the
 * administrator `admin` in it. Two processes starting at once on one
 * PostgreSQL both try; the insert of company 0 lets exactly one through.
 */
export async function bootstrap(
  store: Store,
  adminPassword: string | null,
  now: Date,
  opts: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const existing = await store.db.selectFrom('companies').select('id').where('id', '=', COMMCELL_ID).executeTakeFirst();
  if (existing) return { created: false, generatedPassword: null };
  const generated = adminPassword ? null : generatePassword();
  const hash = await hashSecret(adminPassword ?? (generated as string));
  const at = now.toISOString();
  const created = await store.db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('companies')
      .values({
        id: COMMCELL_ID,
        guid: newGuid(),
        name: 'CommCell',
        domain_name: 'Commcell',
        domain_key: 'commcell',
        created_at: at,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return false;
    const groupId = await createGroup(tx, COMMCELL_ID, 'master', 'master', at, 'CommCell administrators');
    const admin = await createUser(tx, {
      companyId: COMMCELL_ID,
      userName: 'admin',
      fullName: 'Administrator',
      email: '',
      passwordHash: hash,
      now: at,
    });
    await addMember(tx, groupId, admin.id);
    await grant(
      tx,
      { entityType: 1, entityId: 0, principalKind: 'group', principalId: groupId, roleId: 1, companyId: COMMCELL_ID },
      at,
    );
    await bumpAuthzVersion(tx, 'all');
    await appendAudit(tx, {
      actor: null,
      companyId: COMMCELL_ID,
      operation: 'system.bootstrap',
      targetType: 'user',
      targetId: admin.id,
      targetName: 'admin',
      outcome: 'success',
      reason: adminPassword
        ? 'administrator created with BULWARK_ADMIN_PASSWORD'
        : 'administrator created with a generated password',
      at: now,
    });
    if (generated) await opts.keepGenerated?.(generated);
    return true;
  });
  return { created, generatedPassword: created ? generated : null };
}
