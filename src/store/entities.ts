import { sql } from 'kysely';
import { ENTITY_TYPES, type EntityTypeName } from '../domain/catalogue.js';
import { type Checked, checkName } from '../domain/names.js';
import type { Dialect, Executor, Tx } from './db.js';
import { nameKey } from './directory.js';

// The entity tree (DESIGN §5): one `entities` table for every kind, with the
// product's entity type numbers. Client groups, clients and the top-level
// kinds hang off their company (parent_key 0); an agent's parent is a client,
// an instance's an agent, a backup set's an instance, a subclient's a backup set.

export type EntityKind = Exclude<EntityTypeName, 'commcell' | 'company'>;

export const ENTITY_KINDS: readonly EntityKind[] = [
  'clientGroup',
  'client',
  'agent',
  'instance',
  'backupSet',
  'subclient',
  'plan',
  'storagePolicy',
  'schedulePolicy',
  'alert',
  'workflow',
];

/** The kind each nested kind hangs under; null for kinds owned by a company directly. */
export const PARENT_KIND: Readonly<Record<EntityKind, EntityKind | null>> = {
  clientGroup: null,
  client: null,
  agent: 'client',
  instance: 'agent',
  backupSet: 'instance',
  subclient: 'backupSet',
  plan: null,
  storagePolicy: null,
  schedulePolicy: null,
  alert: null,
  workflow: null,
};

const KIND_OF_TYPE = new Map<number, EntityKind>(ENTITY_KINDS.map((k) => [ENTITY_TYPES[k], k]));
const KIND_OF_NAME = new Map<string, EntityKind>(ENTITY_KINDS.map((k) => [k.toLowerCase(), k]));

export function kindOfType(type: number): EntityKind | undefined {
  return KIND_OF_TYPE.get(type);
}

/** A kind by its name (any case) or its type number. */
export function parseKind(raw: string): EntityKind | undefined {
  return /^\d{1,4}$/.test(raw) ? KIND_OF_TYPE.get(Number(raw)) : KIND_OF_NAME.get(raw.toLowerCase());
}

export const MAX_NAME = 256;

/** A name as stored (trimmed, NFC, 1 to 256 characters of those `src/domain/names.ts` allows), or why not. */
export const checkEntityName = (raw: unknown): Checked => checkName(raw, MAX_NAME);

// ---------------------------------------------------------------------------
// Repository functions

export interface EntityRow {
  id: number;
  type: number;
  company_id: number;
  parent_id: number | null;
  name: string;
}

const COLUMNS = ['id', 'type', 'company_id', 'parent_id', 'name'] as const;

export interface EntityListQuery {
  type?: number;
  /** Only this company's entities; all companies when undefined. */
  companyId?: number;
  /** Only the entities of these companies, plus these single entities. */
  scope?: { companies: readonly number[]; ids: readonly number[] };
  offset?: number;
  /** No limit when undefined. */
  limit?: number;
}

export async function listEntities(
  db: Executor,
  dialect: Dialect,
  q: EntityListQuery,
): Promise<{ rows: EntityRow[]; total: number }> {
  let base = db.selectFrom('entities');
  if (q.type !== undefined) base = base.where('type', '=', q.type);
  if (q.companyId !== undefined) base = base.where('company_id', '=', q.companyId);
  if (q.scope) {
    const { companies, ids } = q.scope;
    if (companies.length === 0 && ids.length === 0) return { rows: [], total: 0 };
    // Any number of ids as one bound parameter: both databases cap how many a statement takes.
    const idList = JSON.stringify(ids);
    const inIds =
      dialect === 'postgres'
        ? sql<boolean>`id = any(select jsonb_array_elements_text(${idList}::jsonb)::int)`
        : sql<boolean>`id in (select value from json_each(${idList}))`;
    base = base.where((eb) =>
      eb.or([...(companies.length ? [eb('company_id', 'in', companies)] : []), ...(ids.length ? [inIds] : [])]),
    );
  }
  let page = base.select(COLUMNS).orderBy('id');
  if (q.limit !== undefined) page = page.limit(q.limit);
  if (q.offset) page = q.limit === undefined ? page.limit(2 ** 31 - 1).offset(q.offset) : page.offset(q.offset);
  const [rows, total] = await Promise.all([
    page.execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

/** Inserts one entity; a name already used under the same parent is a unique violation. */
export async function createEntity(
  db: Executor,
  e: { type: number; companyId: number; parentId: number | null; name: string; at: string },
): Promise<number> {
  const row = await db
    .insertInto('entities')
    .values({
      type: e.type,
      company_id: e.companyId,
      parent_id: e.parentId,
      parent_key: e.parentId ?? 0,
      name: e.name,
      name_key: nameKey(e.name),
      created_at: e.at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A name already used under the same parent is a unique violation. */
export async function renameEntity(db: Executor, id: number, name: string): Promise<void> {
  await db
    .updateTable('entities')
    .set({ name, name_key: nameKey(name) })
    .where('id', '=', id)
    .execute();
}

/**
 * Deletes an entity and everything beneath it (the foreign keys cascade to
 * children and client-group memberships), and the security associations
 * made on any of them. Returns how many entities and associations went.
 */
export async function deleteEntity(tx: Tx, id: number): Promise<{ entities: number; associations: number }> {
  const ids = [id];
  let level = [id];
  // The tree is at most five levels deep (client > agent > instance > backup set > subclient).
  while (level.length > 0) {
    const next: number[] = [];
    for (const chunk of chunks(level, 1000)) {
      const rows = await tx.selectFrom('entities').select('id').where('parent_id', 'in', chunk).execute();
      for (const r of rows) next.push(r.id);
    }
    ids.push(...next);
    level = next;
  }
  let associations = 0;
  for (const chunk of chunks(ids, 1000)) {
    const r = await tx
      .deleteFrom('security_associations')
      .where('entity_type', 'not in', [ENTITY_TYPES.commcell, ENTITY_TYPES.company])
      .where('entity_id', 'in', chunk)
      .executeTakeFirst();
    associations += Number(r.numDeletedRows);
  }
  await tx.deleteFrom('entities').where('id', '=', id).execute();
  return { entities: ids.length, associations };
}

/**
 * An entity of `type` named `name` in a company, under `parentId` (0 or
 * absent for top-level kinds). Without a parent, a nested kind's name may
 * match several entities (every client has an agent "File System"): then
 * the answer is 'ambiguous'.
 */
export async function resolveEntity(
  db: Executor,
  companyId: number,
  type: number,
  name: string,
  parentId?: number,
): Promise<number | 'ambiguous' | undefined> {
  let q = db
    .selectFrom('entities')
    .select('id')
    .where('company_id', '=', companyId)
    .where('type', '=', type)
    .where('name_key', '=', nameKey(name));
  if (parentId !== undefined) q = q.where('parent_key', '=', parentId);
  const rows = await q.limit(2).execute();
  if (rows.length > 1) return 'ambiguous';
  return rows[0]?.id;
}

export async function addClientToGroup(db: Executor, groupId: number, clientId: number): Promise<void> {
  await db
    .insertInto('client_group_clients')
    .values({ group_id: groupId, client_id: clientId })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function removeClientFromGroup(db: Executor, groupId: number, clientId: number): Promise<void> {
  await db
    .deleteFrom('client_group_clients')
    .where('group_id', '=', groupId)
    .where('client_id', '=', clientId)
    .execute();
}

export async function clientsOfGroup(db: Executor, groupId: number): Promise<Array<{ id: number; name: string }>> {
  return db
    .selectFrom('client_group_clients as m')
    .innerJoin('entities as e', 'e.id', 'm.client_id')
    .select(['e.id', 'e.name'])
    .where('m.group_id', '=', groupId)
    .orderBy('e.id')
    .execute();
}

/** A unique or foreign-key violation, on either database. */
export function isConstraintViolation(e: unknown): boolean {
  const code = (e as { code?: string })?.code ?? '';
  return code === '23503' || code === '23505' || code.startsWith('SQLITE_CONSTRAINT');
}

export function* chunks<T>(list: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

// ---------------------------------------------------------------------------
// The bulk importer's statements (its line checks and resolution are in src/import/entities.ts)

/** A row as the importer inserts it, its id already allocated. */
export interface EntityInsertRow {
  id: number;
  type: number;
  company_id: number;
  parent_id: number | null;
  parent_key: number;
  name: string;
  name_key: string;
  created_at: string;
}

/** SQLite: the highest id used so far (rows or sequence); the caller's transaction holds the write lock. */
export async function entityIdHighWater(tx: Tx): Promise<number> {
  const row = await sql<{ m: number | null; s: number | null }>`select
      (select max(id) from entities) as m,
      (select seq from sqlite_sequence where name = 'entities') as s`.execute(tx);
  const r = row.rows[0];
  return Math.max(Number(r?.m ?? 0), Number(r?.s ?? 0));
}

/** PostgreSQL: `n` ids from the sequence (sequences are outside transactions: unused ids leave gaps). */
export async function nextEntityIds(db: Executor, n: number): Promise<number[]> {
  const r = await sql<{ id: number }>`select nextval(pg_get_serial_sequence('entities', 'id')) as id
    from generate_series(1, ${n})`.execute(db);
  return r.rows.map((x) => Number(x.id));
}

/** One INSERT for a chunk of rows; a duplicate name is skipped (its id is not returned). */
export async function insertEntityRows(
  db: Executor,
  dialect: Dialect,
  chunk: readonly EntityInsertRow[],
): Promise<Array<{ id: number }>> {
  if (dialect === 'postgres') {
    // Eight array parameters instead of eight per row: PostgreSQL parses and
    // plans the statement once, whatever the chunk's size.
    const col = <K extends keyof EntityInsertRow>(k: K) => chunk.map((r) => r[k]);
    const r = await sql<{ id: number }>`insert into entities
        (id, type, company_id, parent_id, parent_key, name, name_key, created_at)
      select * from unnest(${col('id')}::int[], ${col('type')}::int[], ${col('company_id')}::int[],
        ${col('parent_id')}::int[], ${col('parent_key')}::int[], ${col('name')}::text[],
        ${col('name_key')}::text[], ${col('created_at')}::text[])
      on conflict do nothing
      returning id`.execute(db);
    return r.rows;
  }
  return db
    .insertInto('entities')
    .values(
      chunk.map((r) => ({
        id: r.id,
        type: r.type,
        company_id: r.company_id,
        parent_id: r.parent_id,
        parent_key: r.parent_key,
        name: r.name,
        name_key: r.name_key,
        created_at: r.created_at,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .execute();
}

export async function insertEntityAttributes(
  db: Executor,
  rows: Array<{ entity_id: number; app_id: number | null; os: string | null }>,
): Promise<void> {
  if (rows.length > 0) await db.insertInto('entity_attributes').values(rows).execute();
}

/** Client-group memberships; one already there is kept. */
export async function insertGroupMembers(
  db: Executor,
  dialect: Dialect,
  members: Array<{ group_id: number; client_id: number }>,
): Promise<void> {
  if (members.length === 0) return;
  if (dialect === 'postgres') {
    await sql`insert into client_group_clients (group_id, client_id)
      select * from unnest(${members.map((m) => m.group_id)}::int[], ${members.map((m) => m.client_id)}::int[])
      on conflict do nothing`.execute(db);
  } else {
    await db
      .insertInto('client_group_clients')
      .values(members)
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export async function companyIdByDomainKey(db: Executor, key: string): Promise<number | undefined> {
  const row = await db.selectFrom('companies').select('id').where('domain_key', '=', key).executeTakeFirst();
  return row?.id;
}

/** Whether a company has any entity of a type. */
export async function hasEntityOfType(db: Executor, companyId: number, type: number): Promise<boolean> {
  const row = await db
    .selectFrom('entities')
    .select('id')
    .where('company_id', '=', companyId)
    .where('type', '=', type)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The names of a type under one parent (0: at the top of the company). */
export async function entityNamesUnder(
  db: Executor,
  companyId: number,
  type: number,
  parentKey: number,
): Promise<Array<{ id: number; name_key: string }>> {
  return db
    .selectFrom('entities')
    .select(['id', 'name_key'])
    .where('company_id', '=', companyId)
    .where('type', '=', type)
    .where('parent_key', '=', parentKey)
    .execute();
}

/** Up to `limit` ids of a type with a name key anywhere in a company. */
export async function entityIdsNamed(
  db: Executor,
  companyId: number,
  type: number,
  key: string,
  limit: number,
): Promise<number[]> {
  const rows = await db
    .selectFrom('entities')
    .select('id')
    .where('company_id', '=', companyId)
    .where('type', '=', type)
    .where('name_key', '=', key)
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
