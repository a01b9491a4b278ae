import { sql } from 'kysely';
import { AuthzView, emptyPartRows, type PartRows, partsByCompany, type ViewInput } from '../domain/authz.js';
import { notifyChange } from './changes.js';
import { type Executor, precompiled, type Tx } from './db.js';
import type { SecurityAssociationTable } from './schema.js';

/** The `authz_parts` row meaning "every company": processes that see it moved reload their whole view. */
export const ALL_COMPANIES = -1;
/** A change touching more companies than this is recorded, and reloaded, as a change to all of them. */
const MAX_PARTS = 500;

/**
 * Call in the same transaction as any change to the entity tree, client-group
 * membership, user-group membership, roles or associations, naming the
 * companies whose part of the permission view changed (see AuthzView for what
 * each part holds), or 'all'. Every process compares the version on each
 * authorized request and, when it moved, reloads the parts of the companies
 * changed since its view, so a change applies to the next request on every node
 * (on PostgreSQL, to the next after its notification arrived: see AuthzService).
 *
 * The version row's lock is held until commit, so versions are handed out in
 * commit order: once a reader sees version V, every transaction numbered V or
 * less has committed, its `authz_parts` rows with it.
 */
export async function bumpAuthzVersion(tx: Tx, companies: Iterable<number> | 'all'): Promise<void> {
  const row = await tx
    .updateTable('authz_version')
    .set({ version: sql`version + 1` })
    .where('id', '=', 1)
    .returning('version')
    .executeTakeFirstOrThrow();
  const version = Number(row.version);
  // Delivered on commit, after the version row's lock is let go: in version order.
  await notifyChange(tx, { kind: 'authz', version });
  let ids = companies === 'all' ? [ALL_COMPANIES] : [...new Set(companies)];
  if (ids.length > MAX_PARTS || ids.some((c) => !Number.isInteger(c) || c < 0)) ids = [ALL_COMPANIES];
  if (ids.length === 0) return;
  await tx
    .insertInto('authz_parts')
    .values(ids.map((company_id) => ({ company_id, version })))
    .onConflict((oc) => oc.column('company_id').doUpdateSet({ version }))
    .execute();
}

const versionQuery = precompiled(
  (db, id: number) => db.selectFrom('authz_version').select('version').where('id', '=', id),
  [1],
);

export async function readAuthzVersion(db: Executor): Promise<number> {
  const [row] = await versionQuery(db, 1);
  if (!row) throw new Error('the authz_version row is missing');
  return Number(row.version);
}

/** The companies whose part changed after `version`; ALL_COMPANIES among them means all. */
export async function changedAuthzParts(db: Executor, version: number): Promise<number[]> {
  const rows = await db.selectFrom('authz_parts').select('company_id').where('version', '>', version).execute();
  return rows.map((r) => r.company_id);
}

/** Reads everything a permission check needs into one in-memory view. */
export async function loadAuthzView(db: Executor): Promise<AuthzView> {
  return AuthzView.fromParts(await loadParts(db, null));
}

/**
 * Reads the parts of these companies, filtered by company so each query is an
 * index lookup; a company with nothing left gets an empty part, so replacing
 * it removes what it held.
 */
export async function loadAuthzParts(db: Executor, companies: readonly number[]): Promise<Map<number, ViewInput>> {
  const parts = await loadParts(db, companies);
  for (const c of companies) if (!parts.has(c)) parts.set(c, emptyPartRows());
  return parts;
}

/** The parts of `companies`, or of all companies when null. */
async function loadParts(db: Executor, companies: readonly number[] | null): Promise<Map<number, PartRows>> {
  const rows =
    companies === null ? await loadAllRows(db) : companies.length === 0 ? null : await loadRowsOf(db, companies);
  const { parts, partOf } = partsByCompany();
  if (rows === null) return parts;
  for (const e of rows.entities) {
    partOf(e.company_id).entities.push({
      id: e.id,
      type: e.type,
      companyId: e.company_id,
      parentId: e.parent_id,
      name: e.name,
    });
  }
  for (const c of rows.clientGroups) partOf(c.company_id).clientGroups.push([c.group_id, c.client_id]);
  for (const g of rows.grants) {
    partOf(g.company_id).grants.push({
      entityType: g.entity_type,
      entityId: g.entity_id,
      principalKind: g.principal_kind,
      principalId: g.principal_id,
      roleId: g.role_id,
    });
  }
  for (const r of rows.rolePermissions) partOf(r.company_id).rolePermissions.push([r.role_id, r.permission]);
  for (const m of rows.memberships) partOf(m.company_id).memberships.push([m.group_id, m.user_id]);
  for (const u of rows.users) partOf(u.company_id).userCompanies.push([u.id, u.company_id, u.user_name]);
  for (const g of rows.groups) partOf(g.company_id).groupNames.push([g.id, g.name]);
  for (const r of rows.roles) partOf(r.company_id).roleNames.push([r.id, r.name]);
  return parts;
}

interface Rows {
  entities: Array<{ id: number; type: number; company_id: number; parent_id: number | null; name: string }>;
  /** A client-group membership belongs to the part of its group's company. */
  clientGroups: Array<{ group_id: number; client_id: number; company_id: number }>;
  grants: Array<Pick<SecurityAssociationTable, (typeof GRANT_COLUMNS)[number]>>;
  /** A role's permissions belong to the part of the role's company. */
  rolePermissions: Array<{ role_id: number; permission: string; company_id: number }>;
  /** A user-group membership belongs to the part of the group's company. */
  memberships: Array<{ group_id: number; user_id: number; company_id: number }>;
  users: Array<{ id: number; company_id: number; user_name: string }>;
  groups: Array<{ id: number; company_id: number; name: string }>;
  roles: Array<{ id: number; company_id: number; name: string }>;
}

const GRANT_COLUMNS = ['entity_type', 'entity_id', 'principal_kind', 'principal_id', 'role_id', 'company_id'] as const;

/** Some companies' rows: each query filters on a company id, through an index. */
async function loadRowsOf(db: Executor, companies: readonly number[]): Promise<Rows> {
  const ids = [...companies];
  const [entities, clientGroups, grants, rolePermissions, memberships, users, groups, roles] = await Promise.all([
    db
      .selectFrom('entities')
      .select(['id', 'type', 'company_id', 'parent_id', 'name'])
      .where('company_id', 'in', ids)
      .execute(),
    db
      .selectFrom('entities as g')
      .innerJoin('client_group_clients as m', 'm.group_id', 'g.id')
      .select(['m.group_id', 'm.client_id', 'g.company_id'])
      .where('g.company_id', 'in', ids)
      .execute(),
    db.selectFrom('security_associations').select(GRANT_COLUMNS).where('company_id', 'in', ids).orderBy('id').execute(),
    db
      .selectFrom('roles as r')
      .innerJoin('role_permissions as rp', 'rp.role_id', 'r.id')
      .select(['rp.role_id', 'rp.permission', 'r.company_id'])
      .where('r.company_id', 'in', ids)
      .execute(),
    db
      .selectFrom('user_groups as g')
      .innerJoin('user_group_members as m', 'm.group_id', 'g.id')
      .select(['m.group_id', 'm.user_id', 'g.company_id'])
      .where('g.company_id', 'in', ids)
      .execute(),
    db.selectFrom('users').select(['id', 'company_id', 'user_name']).where('company_id', 'in', ids).execute(),
    db.selectFrom('user_groups').select(['id', 'company_id', 'name']).where('company_id', 'in', ids).execute(),
    db.selectFrom('roles').select(['id', 'company_id', 'name']).where('company_id', 'in', ids).execute(),
  ]);
  return { entities, clientGroups, grants, rolePermissions, memberships, users, groups, roles };
}

/** Every row: plain table reads, the owning companies of memberships and permissions looked up here rather than joined. */
async function loadAllRows(db: Executor): Promise<Rows> {
  const [entities, clientGroups, grants, rolePermissions, roles, memberships, groups, users] = await Promise.all([
    db.selectFrom('entities').select(['id', 'type', 'company_id', 'parent_id', 'name']).execute(),
    db.selectFrom('client_group_clients').select(['group_id', 'client_id']).execute(),
    db.selectFrom('security_associations').select(GRANT_COLUMNS).orderBy('id').execute(),
    db.selectFrom('role_permissions').select(['role_id', 'permission']).execute(),
    db.selectFrom('roles').select(['id', 'company_id', 'name']).execute(),
    db.selectFrom('user_group_members').select(['group_id', 'user_id']).execute(),
    db.selectFrom('user_groups').select(['id', 'company_id', 'name']).execute(),
    db.selectFrom('users').select(['id', 'company_id', 'user_name']).execute(),
  ]);
  const entityCompany: number[] = [];
  for (const e of entities) entityCompany[e.id] = e.company_id;
  const roleCompany = new Map(roles.map((r) => [r.id, r.company_id]));
  const groupCompany = new Map(groups.map((g) => [g.id, g.company_id]));
  // As the joins of loadRowsOf: a row whose owner is gone belongs to no part.
  const owned = <T>(list: T[], key: (row: T) => number | undefined) => {
    const out: Array<T & { company_id: number }> = [];
    for (const row of list) {
      const company_id = key(row);
      if (company_id !== undefined) out.push({ ...row, company_id });
    }
    return out;
  };
  return {
    entities,
    clientGroups: owned(clientGroups, (c) => entityCompany[c.group_id]),
    grants,
    rolePermissions: owned(rolePermissions, (r) => roleCompany.get(r.role_id)),
    memberships: owned(memberships, (m) => groupCompany.get(m.group_id)),
    users,
    groups,
    roles,
  };
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
