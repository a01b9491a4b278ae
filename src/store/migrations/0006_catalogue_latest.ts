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
  // SQLite: the primary key is the table (WITHOUT ROWID), one B-tree fewer to write on import.
  // No foreign key on job_id: jobs go only with their subclient, whose cascade takes these rows.
  let table = db.schema
    .createTable('catalogue_latest')
    .addColumn('subclient_id', 'integer', (c) => c.notNull().references('entities.id').onDelete('cascade'))
    .addColumn('folder', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('job_id', 'integer', (c) => c.notNull())
    .addColumn('backup_time', bigint, (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('is_folder', 'integer', (c) => c.notNull())
    .addColumn('size', bigint, (c) => c.notNull())
    .addColumn('mtime', bigint, (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('catalogue_latest_pk', ['subclient_id', 'folder', 'name']);
  if (dialect === 'sqlite') table = table.modifyEnd(sql`without rowid`);
  await table.execute();
  // A folder's page in browse order (folders first, then by name) straight off the index, and
  // its live items counted, without reading the table.
  await db.schema
    .createIndex('catalogue_latest_page_idx')
    .on('catalogue_latest')
    .columns(['subclient_id', 'folder', 'is_folder desc', 'name', 'deleted'])
    .execute();
  // Browse by time range finds a folder's rows through each job in the range
  // (its key: job, folder, name), and the default browse reads
  // catalogue_latest: the per-subclient index is one index less to write on import.
  await db.schema.dropIndex('catalogue_items_browse_idx').execute();
  if (dialect === 'sqlite') {
    // SQLite: catalogue_items keyed by (job, folder, name) as the table itself
    // (WITHOUT ROWID) instead of a rowid table and a unique index beside it:
    // each file imported is written to one B-tree, not two.
    await sql`create table catalogue_items_keyed (
        job_id integer not null references jobs(id) on delete cascade,
        subclient_id integer not null,
        folder text not null,
        name text not null,
        path text not null,
        is_folder integer not null,
        size integer not null,
        mtime integer not null,
        deleted integer not null,
        primary key (job_id, folder, name)
      ) without rowid`.execute(db);
    await sql`insert into catalogue_items_keyed
      select job_id, subclient_id, folder, name, path, is_folder, size, mtime, deleted from catalogue_items`.execute(
      db,
    );
    await sql`drop table catalogue_items`.execute(db);
    await sql`alter table catalogue_items_keyed rename to catalogue_items`.execute(db);
  }
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
