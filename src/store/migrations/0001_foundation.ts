import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// Frozen: this file describes the schema as it was when it was written. Change
// the schema with a new migration, never by editing this one.

type Table = CreateTableBuilder<string, never>;

function withId(t: Table, dialect: MigrationContext['dialect']): Table {
  return dialect === 'postgres'
    ? t.addColumn('id', 'serial', (c) => c.primaryKey())
    : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

const flag = (c: ColumnDefinitionBuilder) => c.notNull().defaultTo(0);
const text = (c: ColumnDefinitionBuilder) => c.notNull().defaultTo('');

export async function up(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';

  await withId(db.schema.createTable('companies'), dialect)
    .addColumn('guid', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('domain_name', 'text', (c) => c.notNull())
    .addColumn('domain_key', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', text)
    .addColumn('email_domains', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('primary_contacts', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('disable_backup', 'integer', flag)
    .addColumn('disable_restore', 'integer', flag)
    .addColumn('disable_login', 'integer', flag)
    .addColumn('passkey_hash', 'text')
    .addColumn('authorize_for_restore', 'integer', flag)
    .addColumn('allow_users_to_enable_passkey', 'integer', flag)
    .addColumn('enable_auth_code_gen', 'integer', flag)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await withId(db.schema.createTable('users'), dialect)
    .addColumn('company_id', 'integer', (c) => c.notNull().references('companies.id'))
    .addColumn('guid', 'text', (c) => c.notNull().unique())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('full_name', 'text', text)
    .addColumn('email', 'text', text)
    .addColumn('password_hash', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('force_password_change', 'integer', flag)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('password_changed_at', 'text')
    .addUniqueConstraint('users_company_name_uq', ['company_id', 'name_key'])
    .execute();

  await withId(db.schema.createTable('user_groups'), dialect)
    .addColumn('company_id', 'integer', (c) => c.notNull().references('companies.id'))
    .addColumn('guid', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('description', 'text', text)
    .addColumn('system_kind', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('user_groups_company_name_uq', ['company_id', 'name_key'])
    .execute();

  await db.schema
    .createTable('user_group_members')
    .addColumn('group_id', 'integer', (c) => c.notNull().references('user_groups.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('user_group_members_pk', ['group_id', 'user_id'])
    .execute();
  await db.schema.createIndex('user_group_members_user_idx').on('user_group_members').column('user_id').execute();

  await withId(db.schema.createTable('sessions'), dialect)
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('source_addr', 'text')
    .addColumn('device_id', 'text')
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('login_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', flag)
    .addColumn('window_started_at', 'text', (c) => c.notNull())
    .addColumn('locked_until', 'text')
    .addColumn('lock_count', 'integer', flag)
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('seq', bigint, (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_user_id', 'integer')
    .addColumn('actor_name', 'text', text)
    .addColumn('company_id', 'integer')
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', text)
    .addColumn('target_id', 'text', text)
    .addColumn('target_name', 'text', text)
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', text)
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('source_addr', 'text', text)
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
  await db.schema.createIndex('audit_log_company_idx').on('audit_log').columns(['company_id', 'seq']).execute();
  await db.schema.createIndex('audit_log_actor_idx').on('audit_log').columns(['actor_user_id', 'seq']).execute();

  // One row: the chain's head. Writers lock it, which serializes appends.
  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', bigint, (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db
    .insertInto('audit_head')
    .values({ id: 1, seq: 0, hash: '0'.repeat(64) })
    .execute();

  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}
