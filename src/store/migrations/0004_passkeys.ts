import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// Frozen: passkeys below the company, and the end of an authorize-for-restore window.
//
// A company's (and the CommCell's, company 0) passkey already lives in
// `companies.passkey_hash`; `authorize_until` is when its authorize-for-restore
// window closes (ISO-8601 UTC, null = no window). A client's passkey is a row
// of `client_passkeys` (no row = none), removed with the client.

export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('companies').addColumn('authorize_until', 'text').execute();
  await db.schema
    .createTable('client_passkeys')
    .addColumn('client_id', 'integer', (c) => c.primaryKey().references('entities.id').onDelete('cascade'))
    .addColumn('passkey_hash', 'text', (c) => c.notNull())
    .addColumn('authorize_until', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}
