import { type Kysely, sql } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// Frozen: the latest version of every catalogue item (issue 11's browse index).
//
// `catalogue_latest` holds, per subclient and (folder, name) as stored (the
// client's case), the row of the backup job that holds the item's newest
// version: the job that ended last, the higher job id on a tie, as browse
// ranks them. The catalogue importer keeps it up to date in its transaction;
// the default browse and find (a time range that takes in every job of the
// subclient) read it in index order instead of ranking every version.
// Existing catalogue rows are backfilled here.

export async function up(db: Kysely<any>, { dialect }: MigrationContext): Promise<void> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('catalogue_latest')
    .addColumn('subclient_id', 'integer', (c) => c.notNull().references('entities.id').onDelete('cascade'))
    .addColumn('folder', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('job_id', 'integer', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('backup_time', bigint, (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('is_folder', 'integer', (c) => c.notNull())
    .addColumn('size', bigint, (c) => c.notNull())
    .addColumn('mtime', bigint, (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('catalogue_latest_pk', ['subclient_id', 'folder', 'name'])
    .execute();
  // A folder's page in browse order (folders first, then by name) straight off the index.
  await db.schema
    .createIndex('catalogue_latest_page_idx')
    .on('catalogue_latest')
    .columns(['subclient_id', 'folder', 'is_folder', 'name'])
    .execute();
  await db.schema.createIndex('catalogue_latest_job_idx').on('catalogue_latest').columns(['job_id']).execute();
  await backfill(db);
}

/** Each item's newest version from the catalogue rows already there (exported for its test). */
export async function backfill(db: Kysely<any>): Promise<void> {
  await sql`insert into catalogue_latest
      (subclient_id, folder, name, job_id, backup_time, path, is_folder, size, mtime, deleted)
    select subclient_id, folder, name, job_id, backup_time, path, is_folder, size, mtime, deleted
    from (
      select i.subclient_id, i.folder, i.name, i.job_id, j.end_time as backup_time, i.path, i.is_folder,
        i.size, i.mtime, i.deleted,
        row_number() over (partition by i.subclient_id, i.folder, i.name order by j.end_time desc, i.job_id desc) as rn
      from catalogue_items i join jobs j on j.id = i.job_id
      where j.job_type = 'Backup'
    ) r
    where rn = 1`.execute(db);
}
