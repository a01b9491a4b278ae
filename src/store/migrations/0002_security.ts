import { type Kysely, sql } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// Frozen: the entity tree, roles and security associations as first written.

export async function up(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  const id = dialect === 'postgres' ? 'serial' : 'integer';
  const pk = (c: any) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';

  // Every entity of the tree in one table; `type` is the product's entity type
  // number (3 client, 28 client group, 4 agent, 5 instance, 6 backup set,
  // 7 subclient, 17 storage policy, 35 schedule policy, 64 alert, 83 workflow,
  // 158 plan). `parent_key` is the parent's id or 0, so names can be unique per
  // parent with a plain unique index on both dialects.
  await db.schema
    .createTable('entities')
    .addColumn('id', id, pk)
    .addColumn('type', 'integer', (c) => c.notNull())
    .addColumn('company_id', 'integer', (c) => c.notNull().references('companies.id'))
    .addColumn('parent_id', 'integer', (c) => c.references('entities.id').onDelete('cascade'))
    .addColumn('parent_key', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('entities_name_uq')
    .on('entities')
    .columns(['company_id', 'type', 'parent_key', 'name_key'])
    .unique()
    .execute();
  await db.schema.createIndex('entities_parent_idx').on('entities').column('parent_id').execute();
  await db.schema.createIndex('entities_type_company_idx').on('entities').columns(['type', 'company_id']).execute();

  // A client may sit in any number of client groups and inherits from each.
  await db.schema
    .createTable('client_group_clients')
    .addColumn('group_id', 'integer', (c) => c.notNull().references('entities.id').onDelete('cascade'))
    .addColumn('client_id', 'integer', (c) => c.notNull().references('entities.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('client_group_clients_pk', ['group_id', 'client_id'])
    .execute();
  await db.schema
    .createIndex('client_group_clients_client_idx')
    .on('client_group_clients')
    .column('client_id')
    .execute();

  await db.schema
    .createTable('roles')
    .addColumn('id', id, pk)
    // No foreign key: the built-in roles belong to the CommCell (company 0),
    // whose row the bootstrap creates after the migrations.
    .addColumn('company_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('roles_company_name_uq', ['company_id', 'name_key'])
    .execute();

  await db.schema
    .createTable('role_permissions')
    .addColumn('role_id', 'integer', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addColumn('permission', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('role_permissions_pk', ['role_id', 'permission'])
    .execute();

  // (entity, user or group, role). entity_type 1 is the CommCell (id 0) and 61
  // a company; the others are rows of `entities`.
  await db.schema
    .createTable('security_associations')
    .addColumn('id', id, pk)
    .addColumn('entity_type', 'integer', (c) => c.notNull())
    .addColumn('entity_id', 'integer', (c) => c.notNull())
    .addColumn('principal_kind', 'text', (c) => c.notNull())
    .addColumn('principal_id', 'integer', (c) => c.notNull())
    .addColumn('role_id', 'integer', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addColumn('company_id', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('security_associations_uq')
    .on('security_associations')
    .columns(['entity_type', 'entity_id', 'principal_kind', 'principal_id', 'role_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('security_associations_principal_idx')
    .on('security_associations')
    .columns(['principal_kind', 'principal_id'])
    .execute();

  // Bumped in the same transaction as any change to the tree, memberships,
  // roles or associations: processes reload their permission view when it moves.
  await db.schema
    .createTable('authz_version')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', bigint, (c) => c.notNull())
    .execute();
  await db.insertInto('authz_version').values({ id: 1, version: 1 }).execute();

  // The built-in roles as they were defined when this migration was written
  // (a copy, not an import: later catalogue changes get their own migration).
  const builtin: Array<[number, string, string[]]> = [
    [1, 'Master', ALL],
    [2, 'Tenant Admin', ALL.filter((p) => p !== 'Storage Management')],
    [
      3,
      'Tenant Operator',
      ['View', 'Browse', 'In Place Restore', 'Out-of-Place Restore', 'Data Protection', 'Agent Management'],
    ],
    [4, 'Restore Operator', ['View', 'Browse', 'In Place Restore', 'Out-of-Place Restore']],
    [5, 'View', ['View']],
  ];
  const at = new Date().toISOString();
  for (const [roleId, name, perms] of builtin) {
    await db
      .insertInto('roles')
      .values({ id: roleId, company_id: 0, name, name_key: name.toLowerCase(), builtin: 1, created_at: at })
      .execute();
    await db
      .insertInto('role_permissions')
      .values(perms.map((permission) => ({ role_id: roleId, permission })))
      .execute();
  }
  // The built-in groups made before this migration get what they implied:
  // master holds Master on the CommCell, a Tenant Admin group Tenant Admin on its company.
  const groups = await db.selectFrom('user_groups').select(['id', 'company_id', 'system_kind']).execute();
  for (const g of groups) {
    const grant =
      g.system_kind === 'master'
        ? { entity_type: 1, entity_id: 0, role_id: 1 }
        : g.system_kind === 'tenant-admin'
          ? { entity_type: 61, entity_id: g.company_id, role_id: 2 }
          : null;
    if (!grant) continue;
    await db
      .insertInto('security_associations')
      .values({ ...grant, principal_kind: 'group', principal_id: g.id, company_id: g.company_id, created_at: at })
      .execute();
  }
  if (dialect === 'postgres') {
    // Explicit ids above do not advance the sequence.
    await sql`select setval(pg_get_serial_sequence('roles', 'id'), 100)`.execute(db);
  } else {
    await sql`update sqlite_sequence set seq = 100 where name = 'roles'`.execute(db);
  }
}

const ALL = [
  'View',
  'Browse',
  'In Place Restore',
  'Out-of-Place Restore',
  'Data Protection',
  'Agent Management',
  'Administrative Management',
  'User Management',
  'Security Management',
  'Credential Management',
  'Passkey Management',
  'Audit View',
  'Plan Management',
  'Storage Management',
  'Alert Management',
  'Workflow Management',
];
