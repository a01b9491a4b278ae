import { sql } from 'kysely';
import { ENTITY_TYPES } from '../src/domain/catalogue.js';
import { ACCOUNT_KINDS, credentialIdentity, entityAccountIdentity, userKey } from '../src/domain/credentials.js';
import { nameKey } from '../src/domain/names.js';
import { bumpAuthzVersion } from '../src/store/authz.js';
import { openAccount, openCredential } from '../src/store/credentials.js';
import type { Executor, Store } from '../src/store/db.js';
import { SEALED_TABLES } from '../src/store/sealed.js';
import type { Vault } from '../src/store/vault.js';

/** A password per record, distinct and recognisable in a dump. */
export const passwordOf = (ref: string) => `Pw-${ref.replace(/\W/g, '-')}-Secret`;

/**
 * Stores `credentials` Credential Manager records and `accounts` entity-bound
 * accounts (three kinds on each of the clients it creates), each sealed by
 * `vault` with `passwordOf(ref)`, in multi-row batches (fast enough for the
 * rotation bench's 100 000). Returns every record's ref.
 */
export async function seedSealed(
  store: Store,
  vault: Vault,
  n: { credentials: number; accounts: number },
  at = new Date('2026-12-01T00:00:00Z'),
): Promise<string[]> {
  const refs: string[] = [];
  const when = at.toISOString();
  const CHUNK = 500;
  const base = Number(
    (await store.db.selectFrom('credentials').select(sql<number | null>`max(id)`.as('m')).executeTakeFirst())?.m ?? 0,
  );
  for (let start = 0; start < n.credentials; start += CHUNK * 10) {
    await store.db.transaction().execute(async (tx) => {
      const seal = await vault.sealer(tx);
      for (let c = start; c < Math.min(n.credentials, start + CHUNK * 10); c += CHUNK) {
        const rows = [];
        for (let i = c; i < Math.min(n.credentials, c + CHUNK); i++) {
          const id = base + i + 1;
          const ref = `credentials/${id}`;
          const s = seal(credentialIdentity(id), passwordOf(ref));
          rows.push({
            id,
            company_id: 0,
            name: `cred-${id}`,
            name_key: nameKey(`cred-${id}`),
            record_type: 'WINDOWSACCOUNT',
            database_type: null,
            description: '',
            owner_user_id: null,
            user_name: `corp\\svc${id}`,
            user_key: userKey(`corp\\svc${id}`),
            key_id: s.keyId,
            secret: s.secret,
            created_at: when,
            updated_at: when,
          });
          refs.push(ref);
        }
        await tx.insertInto('credentials').values(rows).execute();
      }
    });
  }
  if (store.dialect === 'postgres' && n.credentials > 0) {
    await sql`select setval(pg_get_serial_sequence('credentials', 'id'), (select max(id) from credentials))`.execute(
      store.db,
    );
  }
  const clients = Math.ceil(n.accounts / ACCOUNT_KINDS.length);
  for (let start = 0; start < clients; start += CHUNK) {
    await store.db.transaction().execute(async (tx) => {
      const seal = await vault.sealer(tx);
      const made = await tx
        .insertInto('entities')
        .values(
          Array.from({ length: Math.min(CHUNK, clients - start) }, (_, i) => ({
            type: ENTITY_TYPES.client,
            company_id: 0,
            parent_id: null,
            parent_key: 0,
            name: `sealed-client-${start + i}-${at.getTime()}`,
            name_key: nameKey(`sealed-client-${start + i}-${at.getTime()}`),
            created_at: when,
          })),
        )
        .returning('id')
        .execute();
      const rows = [];
      for (const [j, e] of made.entries()) {
        for (const [k, kind] of ACCOUNT_KINDS.entries()) {
          if ((start + j) * ACCOUNT_KINDS.length + k >= n.accounts) break;
          const ref = `entity_accounts/${e.id}/${kind}`;
          const s = seal(entityAccountIdentity(Number(e.id), kind), passwordOf(ref));
          rows.push({
            entity_id: Number(e.id),
            kind,
            company_id: 0,
            user_name: `corp\\acct${e.id}${k}`,
            user_key: userKey(`corp\\acct${e.id}${k}`),
            key_id: s.keyId,
            secret: s.secret,
            updated_at: when,
          });
          refs.push(ref);
        }
      }
      if (rows.length) await tx.insertInto('entity_accounts').values(rows).execute();
      // Servers running on this store see the new clients (their permission views reload).
      await bumpAuthzVersion(tx, [0]);
    });
  }
  return refs;
}

/** Every sealed record: its ref, key id, and its plaintext through `vault` (or the error it raised). */
export async function openAll(
  db: Executor,
  vault: Vault,
): Promise<Map<string, { keyId: number; plain: string | null; error?: string }>> {
  const out = new Map<string, { keyId: number; plain: string | null; error?: string }>();
  const creds = await db.selectFrom('credentials').select(['id', 'key_id', 'secret']).execute();
  for (const r of creds) {
    const row = { id: Number(r.id), key_id: Number(r.key_id), secret: r.secret };
    out.set(
      `credentials/${row.id}`,
      await openCredential(db, vault, row).then(
        (plain) => ({ keyId: row.key_id, plain }),
        (e: Error) => ({ keyId: row.key_id, plain: null, error: e.message }),
      ),
    );
  }
  const accts = await db.selectFrom('entity_accounts').select(['entity_id', 'kind', 'key_id', 'secret']).execute();
  for (const r of accts) {
    const row = { entity_id: Number(r.entity_id), kind: r.kind, key_id: Number(r.key_id), secret: r.secret };
    out.set(
      `entity_accounts/${row.entity_id}/${row.kind}`,
      await openAccount(db, vault, row).then(
        (plain) => ({ keyId: row.key_id, plain }),
        (e: Error) => ({ keyId: row.key_id, plain: null, error: e.message }),
      ),
    );
  }
  return out;
}

/** Records per key id over every sealed table. */
export async function keyCounts(db: Executor): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (const t of SEALED_TABLES) for (const [k, n] of await t.counts(db)) out[k] = (out[k] ?? 0) + n;
  return out;
}
