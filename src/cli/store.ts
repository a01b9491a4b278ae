import { sql } from 'kysely';
import { type Config, redactDb } from '../config.js';
import { NoStoreError, openStore, type Store } from '../store/db.js';

/**
 * The store for a command. `create`: `serve` and `migrate` make a new SQLite
 * file (0600). `existing`: every other command needs a Bulwark database that
 * is already there, and never creates one (no folder, no file, no table).
 */
export async function withStore<T>(
  config: Config,
  mode: 'create' | 'existing',
  work: (store: Store) => Promise<T>,
): Promise<T> {
  let store: Store;
  try {
    store = openStore(config.db, { create: mode === 'create', connectTimeoutMs: 10_000 });
    if (mode === 'existing') await requireTables(store, config.db);
  } catch (e) {
    throw e instanceof NoStoreError ? hint(e) : e;
  }
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function hint(e: NoStoreError): NoStoreError {
  return new NoStoreError(`${e.message} (BULWARK_DB); \`bulwark migrate\` or \`bulwark serve\` creates one`);
}

/** PostgreSQL: the database is reachable and holds Bulwark's tables (SQLite was checked on opening). */
async function requireTables(store: Store, db: string): Promise<void> {
  if (store.dialect !== 'postgres') return;
  try {
    const r = await sql<{ t: string | null }>`select to_regclass('bulwark_migrations')::text as t`.execute(store.db);
    if (r.rows[0]?.t) return;
  } catch (e) {
    await store.close();
    throw e;
  }
  await store.close();
  throw new NoStoreError(`${redactDb(db)} is not a Bulwark database (it has no bulwark_migrations table)`);
}
