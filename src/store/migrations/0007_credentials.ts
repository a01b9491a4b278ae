import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// Frozen: stored service-account passwords (issue 12).
//
// `vault_keys` holds the data keys, each wrapped by the master key; the newest
// (highest id) seals new secrets. `credentials` are Credential Manager records,
// owned by a company (0 = the CommCell), unique by name within it;
// `credential_users` says who may use a record (the product's "User
// Credential" association). `entity_accounts` are accounts bound to one
// entity: a subclient's UNC-path user, an instance's or a client's
// impersonation user. Every secret column holds AES-256-GCM ciphertext sealed
// under `key_id` with the row's identity as associated data (src/crypto/vault.ts);
// `user_key` is the canonical user name (lower-case `domain\user`) that
// User/AccountManagement matches by, indexed.

export async function up(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  const serial = dialect === 'postgres' ? 'serial' : 'integer';
  await db.schema
    .createTable('vault_keys')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('wrapped', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('credentials')
    .addColumn('id', serial, (c) => c.primaryKey())
    .addColumn('company_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('record_type', 'text', (c) => c.notNull())
    .addColumn('database_type', 'text')
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('owner_user_id', 'integer')
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('user_key', 'text', (c) => c.notNull())
    .addColumn('key_id', 'integer', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('credentials_name_uq')
    .on('credentials')
    .columns(['company_id', 'name_key'])
    .unique()
    .execute();
  await db.schema.createIndex('credentials_user_idx').on('credentials').columns(['user_key']).execute();
  await db.schema.createIndex('credentials_key_idx').on('credentials').columns(['key_id', 'id']).execute();

  await db.schema
    .createTable('credential_users')
    .addColumn('credential_id', 'integer', (c) => c.notNull().references('credentials.id').onDelete('cascade'))
    .addColumn('principal_kind', 'text', (c) => c.notNull())
    .addColumn('principal_id', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('credential_users_pk', ['credential_id', 'principal_kind', 'principal_id'])
    .execute();

  await db.schema
    .createTable('entity_accounts')
    .addColumn('entity_id', 'integer', (c) => c.notNull().references('entities.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('company_id', 'integer', (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('user_key', 'text', (c) => c.notNull())
    .addColumn('key_id', 'integer', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('entity_accounts_pk', ['entity_id', 'kind'])
    .execute();
  await db.schema.createIndex('entity_accounts_user_idx').on('entity_accounts').columns(['user_key']).execute();
  await db.schema.createIndex('entity_accounts_key_idx').on('entity_accounts').columns(['key_id']).execute();
}
