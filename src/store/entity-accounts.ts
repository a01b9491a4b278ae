import type { AccountKind } from '../domain/credentials.js';
import { userKey } from '../domain/credentials.js';
import type { Executor, Tx } from './db.js';

// Entity-bound accounts beside src/store/credentials.ts (which seals and
// opens them): reading one account's user name, and changing the user name
// alone (the sealed password stays valid: its identity is the entity and the
// kind, not the user name).

/** The user name of an entity's account of `kind`, or null when it has none. Never the password. */
export async function accountUserName(db: Executor, entityId: number, kind: AccountKind): Promise<string | null> {
  const r = await db
    .selectFrom('entity_accounts')
    .select('user_name')
    .where('entity_id', '=', entityId)
    .where('kind', '=', kind)
    .executeTakeFirst();
  return r?.user_name ?? null;
}

/** Renames an existing account, keeping its password; false when there is none. */
export async function renameEntityAccount(
  tx: Tx,
  a: { entityId: number; kind: AccountKind; userName: string; at: Date },
): Promise<boolean> {
  const r = await tx
    .updateTable('entity_accounts')
    .set({ user_name: a.userName, user_key: userKey(a.userName), updated_at: a.at.toISOString() })
    .where('entity_id', '=', a.entityId)
    .where('kind', '=', a.kind)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
