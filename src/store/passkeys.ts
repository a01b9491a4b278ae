import type { PasskeyTarget } from '../domain/passkey.js';
import type { Executor } from './db.js';

/** A level's passkey state: its hash (null: none set) and when its authorize-for-restore window closes. */
export interface PasskeyState {
  hash: string | null;
  authorizeUntil: string | null;
}

/** A company's or the CommCell's (company 0) state lives in `companies`, a client's in `client_passkeys`. */
export async function readPasskey(db: Executor, t: PasskeyTarget): Promise<PasskeyState> {
  if (t.level === 'client') {
    const row = await db
      .selectFrom('client_passkeys')
      .select(['passkey_hash', 'authorize_until'])
      .where('client_id', '=', t.id)
      .executeTakeFirst();
    return { hash: row?.passkey_hash ?? null, authorizeUntil: row?.authorize_until ?? null };
  }
  const row = await db
    .selectFrom('companies')
    .select(['passkey_hash', 'authorize_until'])
    .where('id', '=', t.id)
    .executeTakeFirst();
  return { hash: row?.passkey_hash ?? null, authorizeUntil: row?.authorize_until ?? null };
}

/** Sets the first passkey of a level; false when it already has one (another request won). */
export async function createPasskey(db: Executor, t: PasskeyTarget, hash: string, now: Date): Promise<boolean> {
  if (t.level === 'client') {
    const r = await db
      .insertInto('client_passkeys')
      .values({ client_id: t.id, passkey_hash: hash, authorize_until: null, created_at: now.toISOString() })
      .onConflict((oc) => oc.column('client_id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }
  const r = await db
    .updateTable('companies')
    .set({ passkey_hash: hash, authorize_for_restore: 0, authorize_until: null })
    .where('id', '=', t.id)
    .where('passkey_hash', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Replaces the passkey `expected` (the hash the caller verified against) with
 * `hash`, or removes it (null) with its window; false when it changed meanwhile.
 */
export async function replacePasskey(
  db: Executor,
  t: PasskeyTarget,
  expected: string,
  hash: string | null,
): Promise<boolean> {
  if (t.level === 'client') {
    const r =
      hash === null
        ? await db
            .deleteFrom('client_passkeys')
            .where('client_id', '=', t.id)
            .where('passkey_hash', '=', expected)
            .executeTakeFirst()
        : await db
            .updateTable('client_passkeys')
            .set({ passkey_hash: hash })
            .where('client_id', '=', t.id)
            .where('passkey_hash', '=', expected)
            .executeTakeFirst();
    return Number('numDeletedRows' in r ? r.numDeletedRows : r.numUpdatedRows) === 1;
  }
  const r = await db
    .updateTable('companies')
    .set(
      hash === null ? { passkey_hash: null, authorize_for_restore: 0, authorize_until: null } : { passkey_hash: hash },
    )
    .where('id', '=', t.id)
    .where('passkey_hash', '=', expected)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Opens (until a time) or closes (null) a level's authorize-for-restore window; false when it has no passkey. */
export async function setAuthorizeWindow(db: Executor, t: PasskeyTarget, until: Date | null): Promise<boolean> {
  const authorize_until = until ? until.toISOString() : null;
  if (t.level === 'client') {
    const r = await db
      .updateTable('client_passkeys')
      .set({ authorize_until })
      .where('client_id', '=', t.id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  const r = await db
    .updateTable('companies')
    .set({ authorize_until, authorize_for_restore: until ? 1 : 0 })
    .where('id', '=', t.id)
    .where('passkey_hash', 'is not', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * The passkey states of a client and of the companies above it, in one round
 * trip each: what the restore gate reads on every browse and restore.
 */
export async function readGuards(
  db: Executor,
  clientId: number | null,
  companyIds: readonly number[],
): Promise<{ client: PasskeyState | null; companies: Map<number, PasskeyState> }> {
  const [client, rows] = await Promise.all([
    clientId === null
      ? Promise.resolve(undefined)
      : db
          .selectFrom('client_passkeys')
          .select(['passkey_hash', 'authorize_until'])
          .where('client_id', '=', clientId)
          .executeTakeFirst(),
    db
      .selectFrom('companies')
      .select(['id', 'passkey_hash', 'authorize_until'])
      .where('id', 'in', [...companyIds])
      .execute(),
  ]);
  return {
    client: client ? { hash: client.passkey_hash, authorizeUntil: client.authorize_until } : null,
    companies: new Map(rows.map((r) => [r.id, { hash: r.passkey_hash, authorizeUntil: r.authorize_until }])),
  };
}
