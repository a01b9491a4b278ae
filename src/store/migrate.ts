import { type Kysely, sql } from 'kysely';
import type { Dialect, Store } from './db.js';
import * as m0001 from './migrations/0001_foundation.js';
import * as m0002 from './migrations/0002_security.js';
import * as m0003 from './migrations/0003_authz_parts.js';
import * as m0004 from './migrations/0004_passkeys.js';
import * as m0005 from './migrations/0005_catalogue.js';
import * as m0006 from './migrations/0006_catalogue_latest.js';
import * as m0007 from './migrations/0007_credentials.js';
import * as m0008 from './migrations/0008_file_devices.js';
import * as m0009 from './migrations/0009_account_user_keys.js';

export interface MigrationContext {
  dialect: Dialect;
}

interface Migration {
  name: string;
  up(db: Kysely<any>, ctx: MigrationContext): Promise<void>;
}

/** In order; append only. */
export const MIGRATIONS: readonly Migration[] = [
  { name: '0001_foundation', ...m0001 },
  { name: '0002_security', ...m0002 },
  { name: '0003_authz_parts', ...m0003 },
  { name: '0004_passkeys', ...m0004 },
  { name: '0005_catalogue', ...m0005 },
  // After 0007 and 0008 on databases that had those first: it needs only 0005's tables.
  { name: '0006_catalogue_latest', ...m0006 },
  { name: '0007_credentials', ...m0007 },
  { name: '0008_file_devices', ...m0008 },
  { name: '0009_account_user_keys', ...m0009 },
];

// A fixed advisory-lock key ("bulwark" in ASCII, folded into an int4).
const LOCK_KEY = 0x62756c77;

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies pending migrations in one transaction. On PostgreSQL an advisory
 * transaction lock makes concurrent starters wait for each other; the loser
 * then finds everything applied. On SQLite the first statement is a write, so
 * the transaction holds the database's write lock throughout.
 *
 * Kysely's Migrator is not used: its lock table is itself created without a
 * lock, which races when several processes start at once on an empty database.
 */
export async function migrate(store: Store): Promise<MigrateResult> {
  const { db, dialect } = store;
  return db.transaction().execute(async (tx) => {
    if (dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(${LOCK_KEY}, hashtext(current_schema()))`.execute(tx);
    }
    await tx.schema
      .createTable('bulwark_migrations')
      .ifNotExists()
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('applied_at', 'text', (c) => c.notNull())
      .execute();
    const rows = await (tx as unknown as Kysely<any>).selectFrom('bulwark_migrations').select('name').execute();
    const done = new Set(rows.map((r) => r.name as string));
    const known = new Set(MIGRATIONS.map((m) => m.name));
    const unknown = [...done].filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new Error(
        `the database has migrations this version does not know (${unknown.join(', ')}): it was migrated by a newer Bulwark`,
      );
    }
    const applied: string[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.name)) continue;
      await m.up(tx as unknown as Kysely<any>, { dialect });
      await (tx as unknown as Kysely<any>)
        .insertInto('bulwark_migrations')
        .values({ name: m.name, applied_at: new Date().toISOString() })
        .execute();
      applied.push(m.name);
    }
    return { applied, alreadyApplied: done.size };
  });
}
