import { sql } from 'kysely';
import type { Sealed } from '../crypto/vault.js';
import { type AccountKind, credentialIdentity, entityAccountIdentity } from '../domain/credentials.js';
import type { Executor, Tx } from './db.js';

// Every place the vault seals a secret, in one list: `bulwark keys rotate`
// re-encrypts each, `bulwark keys status` and `bulwark status` count each. A
// new table of sealed secrets is added here, or rotation leaves it behind
// (src/store/rotation.test.ts checks every table with `key_id` and `secret`
// columns is listed).

/** One sealed secret as rotation sees it: where it is, what it is sealed to, never its plaintext. */
export interface SealedRecord {
  /** `credentials/17`, `entity_accounts/42/subclientUnc`: for lists and the audit. */
  ref: string;
  /** The associated data it is sealed to (src/domain/credentials.ts). */
  identity: string;
  /** A name an operator recognises (record name or account user name; never a secret). */
  label: string;
  sealed: Sealed;
}

export interface SealedTable {
  table: 'credentials' | 'entity_accounts';
  /** Up to `limit` records not sealed under `keyId`, after `after` in the table's key order; and the cursor after them. */
  notUnder(
    db: Executor,
    keyId: number,
    after: unknown,
    limit: number,
  ): Promise<{ records: SealedRecord[]; next: unknown }>;
  /**
   * Replaces `was` by `now` only if the row still holds `was` (a request that
   * changed the password meanwhile wins); whether it did.
   */
  reseal(tx: Tx, record: SealedRecord, now: Sealed): Promise<boolean>;
  /** `reseal` of many records under one key in one statement; how many were replaced. */
  resealMany(tx: Tx, keyId: number, pairs: ReadonlyArray<{ record: SealedRecord; secret: string }>): Promise<number>;
  /** How many records each key id seals. */
  counts(db: Executor): Promise<Map<number, number>>;
}

async function countsOf(db: Executor, table: 'credentials' | 'entity_accounts'): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom(table)
    .select(['key_id', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy('key_id')
    .execute();
  return new Map(rows.map((r) => [Number(r.key_id), Number(r.n)]));
}

const credentials: SealedTable = {
  table: 'credentials',
  async notUnder(db, keyId, after, limit) {
    let q = db
      .selectFrom('credentials')
      .select(['id', 'name', 'key_id', 'secret'])
      .where('key_id', '<>', keyId)
      .orderBy('id')
      .limit(limit);
    if (after !== null) q = q.where('id', '>', after as number);
    const rows = await q.execute();
    const records = rows.map((r) => ({
      ref: `credentials/${r.id}`,
      identity: credentialIdentity(Number(r.id)),
      label: r.name,
      sealed: { keyId: Number(r.key_id), secret: r.secret },
    }));
    return { records, next: rows.length ? Number(rows[rows.length - 1]?.id) : after };
  },
  async reseal(tx, record, now) {
    const id = Number(record.ref.slice('credentials/'.length));
    const r = await tx
      .updateTable('credentials')
      .set({ key_id: now.keyId, secret: now.secret })
      .where('id', '=', id)
      .where('key_id', '=', record.sealed.keyId)
      .where('secret', '=', record.sealed.secret)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async resealMany(tx, keyId, pairs) {
    if (pairs.length === 0) return 0;
    const values = sql.join(
      pairs.map(
        ({ record, secret }) =>
          sql`(cast(${Number(record.ref.slice('credentials/'.length))} as integer), cast(${record.sealed.keyId} as integer), cast(${record.sealed.secret} as text), cast(${secret} as text))`,
      ),
    );
    // Compare and set, as reseal, for the whole batch: rows a request changed meanwhile are left alone.
    const r = await sql`with v(id, old_key, old_secret, new_secret) as (values ${values})
      update credentials set key_id = ${keyId},
        secret = (select v.new_secret from v where v.id = credentials.id)
      where exists (select 1 from v where v.id = credentials.id and v.old_key = credentials.key_id
        and v.old_secret = credentials.secret)`.execute(tx);
    return Number(r.numAffectedRows ?? 0);
  },
  counts: (db) => countsOf(db, 'credentials'),
};

const entityAccounts: SealedTable = {
  table: 'entity_accounts',
  async notUnder(db, keyId, after, limit) {
    let q = db
      .selectFrom('entity_accounts')
      .select(['entity_id', 'kind', 'user_name', 'key_id', 'secret'])
      .where('key_id', '<>', keyId)
      .orderBy('entity_id')
      .orderBy('kind')
      .limit(limit);
    if (after !== null) {
      const [entityId, kind] = after as [number, AccountKind];
      // A row-value comparison, so both stores walk the primary key instead of sorting what an OR matches.
      q = q.where((eb) => eb(eb.refTuple('entity_id', 'kind'), '>', eb.tuple(entityId, kind)));
    }
    const rows = await q.execute();
    const records = rows.map((r) => ({
      ref: `entity_accounts/${r.entity_id}/${r.kind}`,
      identity: entityAccountIdentity(Number(r.entity_id), r.kind),
      label: r.user_name,
      sealed: { keyId: Number(r.key_id), secret: r.secret },
    }));
    const last = rows[rows.length - 1];
    return { records, next: last ? [Number(last.entity_id), last.kind] : after };
  },
  async reseal(tx, record, now) {
    const [, entityId, kind] = record.ref.split('/') as [string, string, AccountKind];
    const r = await tx
      .updateTable('entity_accounts')
      .set({ key_id: now.keyId, secret: now.secret })
      .where('entity_id', '=', Number(entityId))
      .where('kind', '=', kind)
      .where('key_id', '=', record.sealed.keyId)
      .where('secret', '=', record.sealed.secret)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async resealMany(tx, keyId, pairs) {
    if (pairs.length === 0) return 0;
    const values = sql.join(
      pairs.map(({ record, secret }) => {
        const [, entityId, kind] = record.ref.split('/') as [string, string, string];
        return sql`(cast(${Number(entityId)} as integer), cast(${kind} as text), cast(${record.sealed.keyId} as integer), cast(${record.sealed.secret} as text), cast(${secret} as text))`;
      }),
    );
    const r = await sql`with v(entity_id, kind, old_key, old_secret, new_secret) as (values ${values})
      update entity_accounts set key_id = ${keyId},
        secret = (select v.new_secret from v where v.entity_id = entity_accounts.entity_id and v.kind = entity_accounts.kind)
      where exists (select 1 from v where v.entity_id = entity_accounts.entity_id and v.kind = entity_accounts.kind
        and v.old_key = entity_accounts.key_id and v.old_secret = entity_accounts.secret)`.execute(tx);
    return Number(r.numAffectedRows ?? 0);
  },
  counts: (db) => countsOf(db, 'entity_accounts'),
};

/** Every table holding vault-sealed secrets. */
export const SEALED_TABLES: readonly SealedTable[] = [credentials, entityAccounts];

/** How many records each key id seals, over every sealed table. */
export async function sealedCounts(db: Executor): Promise<Map<number, number>> {
  const total = new Map<number, number>();
  for (const t of SEALED_TABLES) {
    for (const [k, n] of await t.counts(db)) total.set(k, (total.get(k) ?? 0) + n);
  }
  return total;
}
