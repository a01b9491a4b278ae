import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// Frozen: the backup catalogue (jobs per subclient and the files each holds),
// restore jobs, and the entity attributes cvpysdk picks its classes by.
//
// `jobs` holds backup jobs (loaded by catalogue import) and restore jobs (made
// by CreateTask) in one id space, as the product's job ids are. Ids are given
// by the importer or allocated as max + 1 inside the writing transaction.
// Times are epoch seconds. `catalogue_items` holds one row per file and per
// folder a job holds (folders are implied by the files' paths): `folder` is the
// parent's key (components joined by "/" after a leading "/", whatever the
// path's own separator), `name` the last component, `path` the path as the
// client names it.

export async function up(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';

  await db.schema
    .createTable('entity_attributes')
    .addColumn('entity_id', 'integer', (c) => c.primaryKey().references('entities.id').onDelete('cascade'))
    .addColumn('app_id', 'integer')
    .addColumn('os', 'text')
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('company_id', 'integer', (c) => c.notNull())
    .addColumn('subclient_id', 'integer', (c) => c.notNull().references('entities.id').onDelete('cascade'))
    .addColumn('job_type', 'text', (c) => c.notNull())
    .addColumn('backup_level', 'text')
    .addColumn('start_time', bigint, (c) => c.notNull())
    .addColumn('end_time', bigint, (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_subclient_idx').on('jobs').columns(['subclient_id', 'end_time']).execute();
  await db.schema.createIndex('jobs_company_idx').on('jobs').columns(['company_id', 'id']).execute();

  await db.schema
    .createTable('catalogue_items')
    .addColumn('job_id', 'integer', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('subclient_id', 'integer', (c) => c.notNull())
    .addColumn('folder', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('is_folder', 'integer', (c) => c.notNull())
    .addColumn('size', bigint, (c) => c.notNull())
    .addColumn('mtime', bigint, (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('catalogue_items_uq')
    .on('catalogue_items')
    .columns(['job_id', 'folder', 'name'])
    .unique()
    .execute();
  await db.schema
    .createIndex('catalogue_items_browse_idx')
    .on('catalogue_items')
    .columns(['subclient_id', 'folder', 'name'])
    .execute();
}
