import type { Selectable, Updateable } from 'kysely';
import { nameKey } from '../domain/names.js';
import type { ObjectRef } from '../domain/object-id.js';
import { notifyChange } from './changes.js';
import type { Executor } from './db.js';
import type { FdApiKeyTable, FdVirtualServer } from './schema.js';

// Repositories of the file-devices dialect (migration 0008): API keys, API key
// groups, virtual servers and their addresses.

export type ApiKeyRow = Selectable<FdApiKeyTable>;

export async function apiKeyByHash(db: Executor, hash: string) {
  return db
    .selectFrom('fd_api_keys as k')
    .innerJoin('users as u', 'u.id', 'k.owner_user_id')
    .innerJoin('companies as c', 'c.id', 'u.company_id')
    .selectAll('k')
    .select([
      'u.user_name',
      'u.enabled as owner_enabled',
      'c.id as owner_company_id',
      'c.domain_name',
      'c.disable_login',
    ])
    .where('k.secret_hash', '=', hash)
    .executeTakeFirst();
}

export async function apiKeyByPrefix(db: Executor, prefix: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('fd_api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst();
}

export async function listApiKeys(db: Executor, ownerId?: number): Promise<ApiKeyRow[]> {
  let q = db.selectFrom('fd_api_keys').selectAll();
  if (ownerId !== undefined) q = q.where('owner_user_id', '=', ownerId);
  return q.orderBy('id').execute();
}

export async function insertApiKey(db: Executor, row: Omit<ApiKeyRow, 'id' | 'last_used_at'>): Promise<number> {
  const r = await db
    .insertInto('fd_api_keys')
    .values({ ...row, last_used_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

/** Other processes drop their cached copy when the caller's transaction commits. */
export async function updateApiKey(db: Executor, id: number, set: Updateable<FdApiKeyTable>): Promise<void> {
  await db.updateTable('fd_api_keys').set(set).where('id', '=', id).execute();
  await notifyChange(db, { kind: 'key', ids: [id] });
}

export async function deleteApiKey(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('fd_api_keys').where('id', '=', id).execute();
  await notifyChange(db, { kind: 'key', ids: [id] });
}

export async function touchApiKey(db: Executor, id: number, at: string): Promise<void> {
  await db.updateTable('fd_api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}

/** Group ids of each key in `keyIds`. */
export async function groupsOfKeys(db: Executor, keyIds: readonly number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (keyIds.length === 0) return out;
  const rows = await db
    .selectFrom('fd_api_key_group_members')
    .select(['key_id', 'group_id'])
    .where('key_id', 'in', keyIds)
    .orderBy('group_id')
    .execute();
  for (const r of rows) out.set(r.key_id, [...(out.get(r.key_id) ?? []), r.group_id]);
  return out;
}

// Groups

export async function groupByRef(db: Executor, ref: ObjectRef) {
  const q = db.selectFrom('fd_api_key_groups').selectAll();
  if (ref.by === 'id') return q.where('id', '=', ref.id).executeTakeFirst();
  if (ref.by === 'name') return q.where('name_key', '=', nameKey(ref.name)).executeTakeFirst();
  return undefined;
}

export async function listGroups(db: Executor) {
  return db.selectFrom('fd_api_key_groups').selectAll().orderBy('id').execute();
}

export async function membersOfGroups(db: Executor, groupIds: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (groupIds.length === 0) return out;
  const rows = await db
    .selectFrom('fd_api_key_group_members as m')
    .innerJoin('fd_api_keys as k', 'k.id', 'm.key_id')
    .select(['m.group_id', 'k.prefix'])
    .where('m.group_id', 'in', groupIds)
    .orderBy('k.id')
    .execute();
  for (const r of rows) out.set(r.group_id, [...(out.get(r.group_id) ?? []), r.prefix]);
  return out;
}

// Virtual servers

export type VirtualServerWithAddresses = FdVirtualServer & { addresses: string[] };

export async function listVirtualServers(
  db: Executor,
  filter: { id?: number; nameKey?: string; only?: readonly number[] | null },
): Promise<VirtualServerWithAddresses[]> {
  let q = db.selectFrom('fd_virtual_servers').selectAll();
  if (filter.id !== undefined) q = q.where('id', '=', filter.id);
  if (filter.nameKey !== undefined) q = q.where('name_key', '=', filter.nameKey);
  if (filter.only) {
    if (filter.only.length === 0) return [];
    q = q.where('id', 'in', filter.only);
  }
  const servers = await q.orderBy('id').execute();
  if (servers.length === 0) return [];
  const addrs = await db
    .selectFrom('fd_virtual_server_addresses')
    .select(['virtual_server_id', 'address'])
    .where(
      'virtual_server_id',
      'in',
      servers.map((s) => s.id),
    )
    .orderBy('address')
    .execute();
  const by = new Map<number, string[]>();
  for (const a of addrs) by.set(a.virtual_server_id, [...(by.get(a.virtual_server_id) ?? []), a.address]);
  return servers.map((s) => ({ ...s, addresses: by.get(s.id) ?? [] }));
}

export async function virtualServerByRef(
  db: Executor,
  ref: ObjectRef,
): Promise<VirtualServerWithAddresses | undefined> {
  if (ref.by === 'prefix') return undefined;
  const [vs] = await listVirtualServers(db, ref.by === 'id' ? { id: ref.id } : { nameKey: nameKey(ref.name) });
  return vs;
}

export async function addressOwner(db: Executor, address: string): Promise<number | undefined> {
  const r = await db
    .selectFrom('fd_virtual_server_addresses')
    .select('virtual_server_id')
    .where('address', '=', address)
    .executeTakeFirst();
  return r?.virtual_server_id;
}
