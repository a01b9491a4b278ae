import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// Frozen: per-company permission-view versions.
//
// `authz_parts` holds, for each company (0 = the CommCell), the authz version
// of the last transaction that changed what that company contributes to the
// permission view; company -1 means "everything". A process whose view is at
// version V reloads only the companies whose row moved past V. The per-company
// loads filter on company_id: the indexes below make them index lookups
// (entities, users, user_groups and roles already lead an index with company_id).

export async function up(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('authz_parts')
    .addColumn('company_id', 'integer', (c) => c.primaryKey())
    .addColumn('version', bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('authz_parts_version_idx').on('authz_parts').column('version').execute();
  await db.schema
    .createIndex('security_associations_company_idx')
    .on('security_associations')
    .column('company_id')
    .execute();
}
