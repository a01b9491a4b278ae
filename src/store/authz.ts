import { sql } from 'kysely';
import { AuthzView, type Grant } from '../domain/authz.js';
import type { Executor, Tx } from './db.js';

/**
 * Call in the same transaction as any change to the entity tree, client-group
 * membership, user-group membership, roles or associations: every process
 * compares this number on each authorized request and reloads its view when
 * it moved, so a change applies to the next request on every node.
 */
export async function bumpAuthzVersion(tx: Tx): Promise<void> {
  await tx.updateTable('authz_version').set({ version: sql`version + 1` }).where('id', '=', 1).execute();
}

export async function readAuthzVersion(db: Executor): Promise<number> {
  const row = await db.selectFrom('authz_version').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(row.version);
}

/** Reads everything a permission check needs into one in-memory view. */
export async function loadAuthzView(db: Executor): Promise<AuthzView> {
  const [entities, clientGroups, grants, rolePermissions, memberships, users] = await Promise.all([
    db.selectFrom('entities').select(['id', 'type', 'company_id', 'parent_id']).execute(),
    db.selectFrom('client_group_clients').select(['group_id', 'client_id']).execute(),
    db
      .selectFrom('security_associations')
      .select(['entity_type', 'entity_id', 'principal_kind', 'principal_id', 'role_id'])
      .orderBy('id')
      .execute(),
    db.selectFrom('role_permissions').select(['role_id', 'permission']).execute(),
    db.selectFrom('user_group_members').select(['group_id', 'user_id']).execute(),
    db.selectFrom('users').select(['id', 'company_id']).execute(),
  ]);
  return new AuthzView({
    entities: entities.map((e) => ({ id: e.id, type: e.type, companyId: e.company_id, parentId: e.parent_id })),
    clientGroups: clientGroups.map((c) => [c.group_id, c.client_id] as const),
    grants: grants.map(
      (g): Grant => ({
        entityType: g.entity_type,
        entityId: g.entity_id,
        principalKind: g.principal_kind,
        principalId: g.principal_id,
        roleId: g.role_id,
      }),
    ),
    rolePermissions: rolePermissions.map((r) => [r.role_id, r.permission] as const),
    memberships: memberships.map((m) => [m.group_id, m.user_id] as const),
    userCompanies: users.map((u) => [u.id, u.company_id] as const),
  });
}

/** Adds one association; the caller bumps the version in the same transaction. */
export async function grant(
  tx: Tx,
  a: {
    entityType: number;
    entityId: number;
    principalKind: 'user' | 'group';
    principalId: number;
    roleId: number;
    companyId: number;
  },
  at: string,
): Promise<void> {
  await tx
    .insertInto('security_associations')
    .values({
      entity_type: a.entityType,
      entity_id: a.entityId,
      principal_kind: a.principalKind,
      principal_id: a.principalId,
      role_id: a.roleId,
      company_id: a.companyId,
      created_at: at,
    })
    .execute();
}
