import { sql } from 'kysely';
import { newGuid } from '../crypto/secrets.js';
import { nameKey } from '../domain/names.js';
import { grant } from './authz.js';
import type { Executor, Tx } from './db.js';
import { COMMCELL_ID, type Company, type User } from './schema.js';

/** The key names are unique and looked up by: one rule, in `src/domain/names.ts`. */
export { nameKey };

export async function companyById(db: Executor, id: number): Promise<Company | undefined> {
  return db.selectFrom('companies').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function companyByDomain(db: Executor, domain: string): Promise<Company | undefined> {
  return db.selectFrom('companies').selectAll().where('domain_key', '=', nameKey(domain)).executeTakeFirst();
}

/** Tenant companies (the CommCell's own row is not one). */
/** The companies (not the CommCell), all of them or those of `onlyIds`. */
export async function listCompanies(db: Executor, onlyIds?: readonly number[]): Promise<Company[]> {
  let q = db.selectFrom('companies').selectAll().where('id', '<>', COMMCELL_ID);
  if (onlyIds !== undefined) {
    if (onlyIds.length === 0) return [];
    q = q.where('id', 'in', onlyIds);
  }
  return q.orderBy('id').execute();
}

/** Every company's id, the CommCell's (0) included. */
export async function companyIds(db: Executor): Promise<number[]> {
  return (await db.selectFrom('companies').select('id').orderBy('id').execute()).map((c) => c.id);
}

export async function userById(db: Executor, id: number): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function userByName(db: Executor, companyId: number, name: string): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('company_id', '=', companyId)
    .where('name_key', '=', nameKey(name))
    .executeTakeFirst();
}

/** Users with their company's domain: everyone, or those of `scope` (companies, plus single users). */
export async function listUsers(
  db: Executor,
  scope?: { companies: readonly number[]; users: readonly number[] },
): Promise<Array<User & { domain_name: string }>> {
  let q = db
    .selectFrom('users')
    .innerJoin('companies', 'companies.id', 'users.company_id')
    .selectAll('users')
    .select('companies.domain_name');
  if (scope !== undefined) {
    const { companies, users } = scope;
    if (companies.length === 0 && users.length === 0) return [];
    q = q.where((eb) =>
      eb.or([
        ...(companies.length ? [eb('users.company_id', 'in', companies)] : []),
        ...(users.length ? [eb('users.id', 'in', users)] : []),
      ]),
    );
  }
  return q.orderBy('users.id').execute();
}

export async function groupsOfUser(db: Executor, userId: number) {
  return db
    .selectFrom('user_group_members as m')
    .innerJoin('user_groups as g', 'g.id', 'm.group_id')
    .select(['g.id', 'g.name', 'g.company_id', 'g.system_kind'])
    .where('m.user_id', '=', userId)
    .orderBy('g.id')
    .execute();
}

export async function groupByName(db: Executor, companyId: number, name: string) {
  return db
    .selectFrom('user_groups')
    .selectAll()
    .where('company_id', '=', companyId)
    .where('name_key', '=', nameKey(name))
    .executeTakeFirst();
}

export async function createGroup(
  db: Executor,
  companyId: number,
  name: string,
  systemKind: string | null,
  now: string,
  description = '',
): Promise<number> {
  const row = await db
    .insertInto('user_groups')
    .values({
      company_id: companyId,
      guid: newGuid(),
      name,
      name_key: nameKey(name),
      description,
      system_kind: systemKind,
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function addMember(db: Executor, groupId: number, userId: number): Promise<void> {
  await db
    .insertInto('user_group_members')
    .values({ group_id: groupId, user_id: userId })
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
    .execute();
}

export interface NewUserInput {
  companyId: number;
  userName: string;
  fullName: string;
  email: string;
  passwordHash: string | null;
  now: string;
}

export async function createUser(db: Executor, u: NewUserInput): Promise<{ id: number; guid: string }> {
  const guid = newGuid();
  const row = await db
    .insertInto('users')
    .values({
      company_id: u.companyId,
      guid,
      user_name: u.userName,
      name_key: nameKey(u.userName),
      full_name: u.fullName,
      email: u.email,
      password_hash: u.passwordHash,
      enabled: 1,
      force_password_change: 0,
      created_at: u.now,
      password_changed_at: u.passwordHash ? u.now : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, guid };
}

/** How many users a company has (an index range count, not a scan of every company's users). */
export async function countUsers(db: Executor, companyId: number): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select(sql<number>`count(*)`.as('n'))
    .where('company_id', '=', companyId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Unique-constraint violations, in either dialect's words. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

export interface NewCompanyInput {
  name: string;
  domainName: string;
  description: string;
  emailDomains: readonly string[];
  at: string;
}

/**
 * A new company as every path makes one (POST Organization, bulwark demo):
 * its row, its `Tenant Admin` group holding the Tenant Admin role on the
 * company, and its `Tenant Users` group. The caller audits it and bumps the
 * permission version.
 */
export async function createCompany(tx: Tx, c: NewCompanyInput) {
  const company = await tx
    .insertInto('companies')
    .values({
      guid: newGuid(),
      name: c.name,
      domain_name: c.domainName,
      domain_key: nameKey(c.domainName),
      description: c.description,
      email_domains: JSON.stringify(c.emailDomains),
      primary_contacts: '[]',
      created_at: c.at,
    })
    .returning(['id', 'domain_name', 'guid'])
    .executeTakeFirstOrThrow();
  const adminGroup = await createGroup(tx, company.id, 'Tenant Admin', 'tenant-admin', c.at);
  await createGroup(tx, company.id, 'Tenant Users', 'tenant-users', c.at);
  const tenantAdminRole = 2;
  await grant(
    tx,
    {
      entityType: 61,
      entityId: company.id,
      principalKind: 'group',
      principalId: adminGroup,
      roleId: tenantAdminRole,
      companyId: company.id,
    },
    c.at,
  );
  return { ...company, adminGroup };
}
