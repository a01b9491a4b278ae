import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// Frozen: the file-devices dialect's tables (issue 13).
//
// An API key is found by the SHA-256 of its secret (unique index); the secret
// itself is never stored. Its restrictions are JSON arrays of ids, null when
// unrestricted: a restriction naming a group or virtual server deleted since
// fails closed (it names nothing), where a join table with ON DELETE CASCADE
// would have turned it into "unrestricted". Ids come from sequences that never
// reuse a value (serial, AUTOINCREMENT), so a stale id cannot name a newer object.

export async function up(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  const id = (t: any) =>
    dialect === 'postgres'
      ? t.addColumn('id', 'serial', (c: any) => c.primaryKey())
      : t.addColumn('id', 'integer', (c: any) => c.primaryKey().autoIncrement());

  await id(db.schema.createTable('fd_api_keys'))
    .addColumn('prefix', 'text', (c: any) => c.notNull().unique())
    .addColumn('secret_hash', 'text', (c: any) => c.notNull().unique())
    .addColumn('owner_user_id', 'integer', (c: any) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('description', 'text', (c: any) => c.notNull().defaultTo(''))
    .addColumn('is_enabled', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('rest_access', 'text', (c: any) => c.notNull())
    .addColumn('soap_access', 'text', (c: any) => c.notNull())
    .addColumn('key_type', 'text', (c: any) => c.notNull())
    .addColumn('allowed_call_ids', 'text', (c: any) => c.notNull().defaultTo('[]'))
    .addColumn('restricted_groups', 'text')
    .addColumn('restricted_virtual_servers', 'text')
    .addColumn('allowed_sources', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('created_at', 'text', (c: any) => c.notNull())
    .addColumn('last_used_at', 'text')
    .execute();
  await db.schema.createIndex('fd_api_keys_owner_ix').on('fd_api_keys').column('owner_user_id').execute();

  await id(db.schema.createTable('fd_api_key_groups'))
    .addColumn('name', 'text', (c: any) => c.notNull())
    .addColumn('name_key', 'text', (c: any) => c.notNull().unique())
    .addColumn('description', 'text', (c: any) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c: any) => c.notNull())
    .execute();

  await db.schema
    .createTable('fd_api_key_group_members')
    .addColumn('group_id', 'integer', (c: any) => c.notNull().references('fd_api_key_groups.id').onDelete('cascade'))
    .addColumn('key_id', 'integer', (c: any) => c.notNull().references('fd_api_keys.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('fd_api_key_group_members_pk', ['group_id', 'key_id'])
    .execute();
  await db.schema
    .createIndex('fd_api_key_group_members_key_ix')
    .on('fd_api_key_group_members')
    .column('key_id')
    .execute();

  await id(db.schema.createTable('fd_virtual_servers'))
    .addColumn('uuid', 'text', (c: any) => c.notNull().unique())
    .addColumn('name', 'text', (c: any) => c.notNull())
    .addColumn('name_key', 'text', (c: any) => c.notNull().unique())
    .addColumn('node_id', 'integer', (c: any) => c.notNull())
    .addColumn('is_enabled', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c: any) => c.notNull())
    .execute();

  // An address belongs to one virtual server at a time.
  await db.schema
    .createTable('fd_virtual_server_addresses')
    .addColumn('address', 'text', (c: any) => c.primaryKey())
    .addColumn('virtual_server_id', 'integer', (c: any) =>
      c.notNull().references('fd_virtual_servers.id').onDelete('cascade'),
    )
    .addColumn('netmask', 'text', (c: any) => c.notNull())
    .addColumn('port', 'text', (c: any) => c.notNull())
    .execute();
  await db.schema
    .createIndex('fd_virtual_server_addresses_vs_ix')
    .on('fd_virtual_server_addresses')
    .column('virtual_server_id')
    .execute();
}
