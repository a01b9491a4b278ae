import { sql } from 'kysely';
import { PERMISSIONS } from '../domain/catalogue.js';
import type { Tx } from './db.js';

/** Thrown when a change would break an invariant of the whole estate; the caller's transaction rolls back. */
export class InvariantError extends Error {}

/**
 * The CommCell always keeps an enabled Master: an enabled user of the
 * CommCell (a company's user reaches nothing outside its company) holding a
 * role with every permission on the CommCell itself, directly or through a
 * user group. Call it in every transaction that may take Master away (an
 * association removed, a membership removed, a user disabled or deleted, a
 * group or role deleted), after the change; it throws, and so rolls the
 * change back, when none would be left.
 *
 * It first takes the permission version row's lock (a no-op update), so two
 * transactions each removing one of the last two Masters are ordered: the
 * second reads after the first committed (PostgreSQL, read committed) or ran
 * alone (SQLite, whose write transactions are serial anyway).
 */
export async function assertCommCellKeepsMaster(tx: Tx): Promise<void> {
  await tx.updateTable('authz_version').set({ version: sql`version` }).where('id', '=', 1).execute();
  const masterRoles = tx
    .selectFrom('role_permissions')
    .select('role_id')
    .groupBy('role_id')
    .having(sql`count(distinct permission)`, '>=', PERMISSIONS.length);
  const heldOnCommCell = (kind: 'user' | 'group') =>
    tx
      .selectFrom('security_associations as a')
      .select('a.principal_id')
      .where('a.entity_type', '=', 1)
      .where('a.entity_id', '=', 0)
      .where('a.principal_kind', '=', kind)
      .where('a.role_id', 'in', masterRoles);
  const row = await tx
    .selectFrom('users as u')
    .select('u.id')
    .where('u.company_id', '=', 0)
    .where('u.enabled', '=', 1)
    .where((eb) =>
      eb.or([
        eb('u.id', 'in', heldOnCommCell('user')),
        eb(
          'u.id',
          'in',
          tx
            .selectFrom('user_group_members as m')
            .select('m.user_id')
            .where('m.group_id', 'in', heldOnCommCell('group')),
        ),
      ]),
    )
    .limit(1)
    .executeTakeFirst();
  if (!row) throw new InvariantError('the CommCell must keep at least one enabled user holding Master on it');
}
