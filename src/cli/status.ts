import type { Kysely } from 'kysely';
import { redactDb } from '../config.js';
import type { Store } from '../store/db.js';
import { MIGRATIONS } from '../store/migrate.js';
import { COMMCELL_ID } from '../store/schema.js';

export interface StoreStatus {
  lines: string[];
  /** Migrations this version has that the database lacks. */
  pending: string[];
}

/** `bulwark status`: what the store holds, read only. */
export async function storeStatus(store: Store, db: string): Promise<StoreStatus> {
  const rows = await (store.db as unknown as Kysely<any>).selectFrom('bulwark_migrations').select('name').execute();
  const applied = new Set(rows.map((r) => r.name as string));
  const pending = MIGRATIONS.map((m) => m.name).filter((n) => !applied.has(n));
  const lines = [`store: ${store.dialect} ${redactDb(db)}`];
  if (pending.length > 0) {
    lines.push(`migrations: ${applied.size} applied, pending: ${pending.join(', ')} (bulwark migrate applies them)`);
    return { lines, pending };
  }
  lines.push(`migrations: ${applied.size} applied, none pending`);
  const commcell = await store.db.selectFrom('companies').select('id').where('id', '=', COMMCELL_ID).executeTakeFirst();
  lines.push(`administrator: ${commcell ? 'created' : 'not yet (the first bulwark serve creates it)'}`);
  const head = await store.db.selectFrom('audit_head').select('seq').executeTakeFirst();
  lines.push(`audit records: ${head?.seq ?? 0}`);
  return { lines, pending };
}
