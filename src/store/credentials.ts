import { sql } from 'kysely';
import type { Sealed } from '../crypto/vault.js';
import { type AccountKind, credentialIdentity, entityAccountIdentity, userKey } from '../domain/credentials.js';
import { nameKey } from '../domain/names.js';
import type { Executor, Tx } from './db.js';
import type { Vault } from './vault.js';

// Repositories of stored service accounts: Credential Manager records and
// entity-bound accounts. Every password goes in and out through the vault,
// sealed to its row's identity; nothing here returns a plaintext password
// except `openCredential`/`openAccount`, which AccountManagement's compare uses.

export interface CredentialRow {
  id: number;
  company_id: number;
  name: string;
  record_type: string;
  database_type: string | null;
  description: string;
  owner_user_id: number | null;
  user_name: string;
  key_id: number;
  secret: string;
  created_at: string;
  updated_at: string;
}

const CREDENTIAL_COLUMNS = [
  'id',
  'company_id',
  'name',
  'record_type',
  'database_type',
  'description',
  'owner_user_id',
  'user_name',
  'key_id',
  'secret',
  'created_at',
  'updated_at',
] as const;

export interface NewCredential {
  companyId: number;
  name: string;
  recordType: string;
  databaseType: string | null;
  description: string;
  ownerUserId: number | null;
  userName: string;
  password: string;
  at: Date;
}

/** Inserts a record and seals its password to the new row's id; returns the id (null: the name is taken in that company). */
export async function insertCredential(tx: Tx, vault: Vault, c: NewCredential): Promise<number | null> {
  const taken = await tx
    .selectFrom('credentials')
    .select('id')
    .where('company_id', '=', c.companyId)
    .where('name_key', '=', nameKey(c.name))
    .executeTakeFirst();
  if (taken) return null;
  const seal = await vault.sealer(tx);
  const at = c.at.toISOString();
  const row = await tx
    .insertInto('credentials')
    .values({
      company_id: c.companyId,
      name: c.name,
      name_key: nameKey(c.name),
      record_type: c.recordType,
      database_type: c.databaseType,
      description: c.description,
      owner_user_id: c.ownerUserId,
      user_name: c.userName,
      user_key: userKey(c.userName),
      key_id: 0,
      secret: '',
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = Number(row.id);
  const sealed = seal(credentialIdentity(id), c.password);
  await tx
    .updateTable('credentials')
    .set({ key_id: sealed.keyId, secret: sealed.secret })
    .where('id', '=', id)
    .execute();
  return id;
}

export async function credentialById(db: Executor, id: number): Promise<CredentialRow | undefined> {
  const r = await db.selectFrom('credentials').select(CREDENTIAL_COLUMNS).where('id', '=', id).executeTakeFirst();
  return r && normalize(r);
}

export async function credentialByName(
  db: Executor,
  companyIds: readonly number[],
  name: string,
): Promise<CredentialRow[]> {
  if (companyIds.length === 0) return [];
  const rows = await db
    .selectFrom('credentials')
    .select(CREDENTIAL_COLUMNS)
    .where('name_key', '=', nameKey(name))
    .where('company_id', 'in', [...companyIds])
    .orderBy('id')
    .execute();
  return rows.map(normalize);
}

/** Records of these companies (all with `null`), by id. */
export async function listCredentials(db: Executor, companyIds: readonly number[] | null): Promise<CredentialRow[]> {
  let q = db.selectFrom('credentials').select(CREDENTIAL_COLUMNS).orderBy('id');
  if (companyIds !== null) {
    if (companyIds.length === 0) return [];
    q = q.where('company_id', 'in', [...companyIds]);
  }
  return (await q.execute()).map(normalize);
}

/** Ids of records a user may use ("User Credential"), directly or through one of `groupIds`. */
export async function usableCredentialIds(
  db: Executor,
  userId: number,
  groupIds: readonly number[],
): Promise<Set<number>> {
  let q = db
    .selectFrom('credential_users')
    .select('credential_id')
    .where((eb) =>
      groupIds.length === 0
        ? eb.and([eb('principal_kind', '=', 'user'), eb('principal_id', '=', userId)])
        : eb.or([
            eb.and([eb('principal_kind', '=', 'user'), eb('principal_id', '=', userId)]),
            eb.and([eb('principal_kind', '=', 'group'), eb('principal_id', 'in', [...groupIds])]),
          ]),
    );
  q = q.distinct();
  return new Set((await q.execute()).map((r) => Number(r.credential_id)));
}

export interface CredentialUser {
  kind: 'user' | 'group';
  id: number;
  name: string;
}

/** Who may use a record, with their names (a company's as `domain\name`). */
export async function credentialUsers(db: Executor, credentialId: number): Promise<CredentialUser[]> {
  const users = await db
    .selectFrom('credential_users as cu')
    .innerJoin('users as u', 'u.id', 'cu.principal_id')
    .innerJoin('companies as c', 'c.id', 'u.company_id')
    .select(['u.id', 'u.user_name', 'u.company_id', 'c.domain_name'])
    .where('cu.credential_id', '=', credentialId)
    .where('cu.principal_kind', '=', 'user')
    .orderBy('u.id')
    .execute();
  const groups = await db
    .selectFrom('credential_users as cu')
    .innerJoin('user_groups as g', 'g.id', 'cu.principal_id')
    .innerJoin('companies as c', 'c.id', 'g.company_id')
    .select(['g.id', 'g.name', 'g.company_id', 'c.domain_name'])
    .where('cu.credential_id', '=', credentialId)
    .where('cu.principal_kind', '=', 'group')
    .orderBy('g.id')
    .execute();
  const qualified = (companyId: number, domain: string, name: string) =>
    Number(companyId) === 0 ? name : `${domain}\\${name}`;
  return [
    ...users.map((u) => ({
      kind: 'user' as const,
      id: Number(u.id),
      name: qualified(u.company_id, u.domain_name, u.user_name),
    })),
    ...groups.map((g) => ({
      kind: 'group' as const,
      id: Number(g.id),
      name: qualified(g.company_id, g.domain_name, g.name),
    })),
  ];
}

export async function replaceCredentialUsers(
  tx: Tx,
  credentialId: number,
  users: ReadonlyArray<{ kind: 'user' | 'group'; id: number }>,
): Promise<void> {
  await tx.deleteFrom('credential_users').where('credential_id', '=', credentialId).execute();
  const unique = new Map(users.map((u) => [`${u.kind}:${u.id}`, u]));
  if (unique.size === 0) return;
  await tx
    .insertInto('credential_users')
    .values(
      [...unique.values()].map((u) => ({ credential_id: credentialId, principal_kind: u.kind, principal_id: u.id })),
    )
    .execute();
}

export interface CredentialChange {
  name?: string;
  description?: string;
  userName?: string;
  password?: string;
  at: Date;
}

/** Applies a change to one record; a new password is sealed with the active key. */
export async function updateCredential(tx: Tx, vault: Vault, id: number, ch: CredentialChange): Promise<void> {
  const set: Record<string, unknown> = { updated_at: ch.at.toISOString() };
  if (ch.name !== undefined) {
    set.name = ch.name;
    set.name_key = nameKey(ch.name);
  }
  if (ch.description !== undefined) set.description = ch.description;
  if (ch.userName !== undefined) {
    set.user_name = ch.userName;
    set.user_key = userKey(ch.userName);
  }
  if (ch.password !== undefined) {
    const sealed = (await vault.sealer(tx))(credentialIdentity(id), ch.password);
    set.key_id = sealed.keyId;
    set.secret = sealed.secret;
  }
  await tx.updateTable('credentials').set(set).where('id', '=', id).execute();
}

export async function deleteCredential(tx: Tx, id: number): Promise<void> {
  await tx.deleteFrom('credential_users').where('credential_id', '=', id).execute();
  await tx.deleteFrom('credentials').where('id', '=', id).execute();
}

export function openCredential(
  db: Executor,
  vault: Vault,
  row: { id: number; key_id: number; secret: string },
): Promise<string> {
  return vault.open(db, credentialIdentity(row.id), { keyId: Number(row.key_id), secret: row.secret });
}

// -- entity-bound accounts -----------------------------------------------------

export interface AccountRow {
  entity_id: number;
  kind: AccountKind;
  company_id: number;
  user_name: string;
  key_id: number;
  secret: string;
  updated_at: string;
}

/** Sets (or replaces) the account of `kind` on an entity. */
export async function setEntityAccount(
  tx: Tx,
  vault: Vault,
  a: { entityId: number; kind: AccountKind; companyId: number; userName: string; password: string; at: Date },
): Promise<void> {
  const sealed: Sealed = (await vault.sealer(tx))(entityAccountIdentity(a.entityId, a.kind), a.password);
  const values = {
    company_id: a.companyId,
    user_name: a.userName,
    user_key: userKey(a.userName),
    key_id: sealed.keyId,
    secret: sealed.secret,
    updated_at: a.at.toISOString(),
  };
  await tx
    .insertInto('entity_accounts')
    .values({ entity_id: a.entityId, kind: a.kind, ...values })
    .onConflict((oc) => oc.columns(['entity_id', 'kind']).doUpdateSet(values))
    .execute();
}

export async function clearEntityAccount(tx: Tx, entityId: number, kind: AccountKind): Promise<boolean> {
  const r = await tx
    .deleteFrom('entity_accounts')
    .where('entity_id', '=', entityId)
    .where('kind', '=', kind)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function entityAccounts(db: Executor, entityId: number): Promise<AccountRow[]> {
  const rows = await db
    .selectFrom('entity_accounts')
    .select(['entity_id', 'kind', 'company_id', 'user_name', 'key_id', 'secret', 'updated_at'])
    .where('entity_id', '=', entityId)
    .orderBy('kind')
    .execute();
  return rows.map((r) => ({
    ...r,
    entity_id: Number(r.entity_id),
    company_id: Number(r.company_id),
    key_id: Number(r.key_id),
  }));
}

export function openAccount(
  db: Executor,
  vault: Vault,
  row: { entity_id: number; kind: AccountKind; key_id: number; secret: string },
): Promise<string> {
  return vault.open(db, entityAccountIdentity(row.entity_id, row.kind), {
    keyId: Number(row.key_id),
    secret: row.secret,
  });
}

function normalize<T extends { id: unknown; company_id: unknown; key_id: unknown; owner_user_id: unknown }>(r: T) {
  return {
    ...r,
    id: Number(r.id),
    company_id: Number(r.company_id),
    key_id: Number(r.key_id),
    owner_user_id: r.owner_user_id === null ? null : Number(r.owner_user_id),
  } as unknown as CredentialRow;
}

// -- every stored account of one user name (User/AccountManagement) ----------

/** Seals a secret to a row's identity (a `Vault.sealer` bound to one transaction). */
export type Sealer = (identity: string, plaintext: string) => Sealed;

/** Past this many companies, filter by company in memory: the user-name key alone is selective. */
const IN_LIST_MAX = 500;

/**
 * Entity-bound accounts whose `user_key` is `key`, in these companies (all
 * with `null`), by entity and kind. `forUpdate` locks the rows (PostgreSQL
 * only: SQLite's writing transaction already holds the database).
 */
export async function entityAccountsByUserKey(
  db: Executor,
  key: string,
  companyIds: readonly number[] | null,
  forUpdate = false,
): Promise<AccountRow[]> {
  if (key === '' || companyIds?.length === 0) return [];
  let q = db
    .selectFrom('entity_accounts')
    .select(['entity_id', 'kind', 'company_id', 'user_name', 'key_id', 'secret', 'updated_at'])
    .where('user_key', '=', key)
    .orderBy('entity_id')
    .orderBy('kind');
  if (companyIds !== null && companyIds.length <= IN_LIST_MAX) q = q.where('company_id', 'in', [...companyIds]);
  if (forUpdate) q = q.forUpdate();
  const within = companyIds === null ? null : new Set(companyIds);
  return (await q.execute())
    .map((r) => ({ ...r, entity_id: Number(r.entity_id), company_id: Number(r.company_id), key_id: Number(r.key_id) }))
    .filter((r) => within === null || within.has(r.company_id));
}

/** Credential Manager records whose `user_key` is `key`, in these companies (all with `null`), by id. */
export async function credentialsByUserKey(
  db: Executor,
  key: string,
  companyIds: readonly number[] | null,
  forUpdate = false,
): Promise<CredentialRow[]> {
  if (key === '' || companyIds?.length === 0) return [];
  let q = db.selectFrom('credentials').select(CREDENTIAL_COLUMNS).where('user_key', '=', key).orderBy('id');
  if (companyIds !== null && companyIds.length <= IN_LIST_MAX) q = q.where('company_id', 'in', [...companyIds]);
  if (forUpdate) q = q.forUpdate();
  const within = companyIds === null ? null : new Set(companyIds);
  return (await q.execute()).map(normalize).filter((r) => within === null || within.has(r.company_id));
}

export interface AccountRewrite {
  /** The new user name (its key is stored with it); absent: unchanged. */
  userName?: string;
  /** The new password, sealed with `seal`; absent: unchanged. */
  password?: string;
  at: Date;
}

/** Rows per batched statement: 3 parameters each, well under either store's limit. */
const REWRITE_BATCH = 500;

/**
 * Rewrites many accounts' user name and/or password with a few statements
 * (an UPDATE … FROM VALUES per batch, which both stores run), each password
 * sealed to its own row. Returns how many rows were updated; a caller that
 * expects all of them treats fewer as a vanished row.
 */
export async function rewriteAccounts(
  tx: Tx,
  seal: Sealer,
  accounts: ReadonlyArray<{ entityId: number; kind: AccountKind }>,
  credentialIds: readonly number[],
  ch: AccountRewrite,
): Promise<number> {
  const at = ch.at.toISOString();
  const names =
    ch.userName === undefined ? sql`` : sql`, user_name = ${ch.userName}, user_key = ${userKey(ch.userName)}`;
  // One sealer call per row; every row of a batch shares the active key.
  let keyId: number | null = null;
  const sealed = (identity: string) => {
    if (ch.password === undefined) return null;
    const s = seal(identity, ch.password);
    keyId = s.keyId;
    return s.secret;
  };
  const secret = ch.password === undefined ? sql`` : sql`, secret = v.column3, key_id = v.column4`;
  let updated = 0;
  for (let i = 0; i < accounts.length; i += REWRITE_BATCH) {
    const rows = accounts.slice(i, i + REWRITE_BATCH).map((a) => {
      const s = sealed(entityAccountIdentity(a.entityId, a.kind));
      return sql`(cast(${a.entityId} as integer), ${a.kind}, ${s ?? ''}, cast(${keyId ?? 0} as integer))`;
    });
    const r = await sql`update entity_accounts set updated_at = ${at}${names}${secret}
      from (values ${sql.join(rows)}) as v
      where entity_accounts.entity_id = v.column1 and entity_accounts.kind = v.column2`.execute(tx);
    updated += Number(r.numAffectedRows ?? 0);
  }
  for (let i = 0; i < credentialIds.length; i += REWRITE_BATCH) {
    const rows = credentialIds.slice(i, i + REWRITE_BATCH).map((id) => {
      const s = sealed(credentialIdentity(id));
      return sql`(cast(${id} as integer), ${''}, ${s ?? ''}, cast(${keyId ?? 0} as integer))`;
    });
    const r = await sql`update credentials set updated_at = ${at}${names}${secret}
      from (values ${sql.join(rows)}) as v
      where credentials.id = v.column1`.execute(tx);
    updated += Number(r.numAffectedRows ?? 0);
  }
  return updated;
}
