import { CompiledQuery, sql } from 'kysely';
import type { Dialect, Executor } from './db.js';
import type { CatalogueItemTable, JobTable } from './schema.js';

// The backup catalogue's repository: jobs (backup and restore, one id space)
// and the files and folders each backup job holds (migration 0005).

/** A file or folder of a backup job, as stored. */
export type CatalogueItem = CatalogueItemTable;

export type JobRow = Omit<JobTable, 'user_name' | 'details'> & { user_name: string; details: string };

/** The highest job id (0 when there is none): new ids are allocated above it inside the writing transaction. */
export async function maxJobId(db: Executor): Promise<number> {
  const r = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.max('id').as('m'))
    .executeTakeFirst();
  return Number(r?.m ?? 0);
}

export async function jobExists(db: Executor, id: number): Promise<boolean> {
  return (await db.selectFrom('jobs').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function insertJob(db: Executor, job: JobRow): Promise<void> {
  await db.insertInto('jobs').values(job).execute();
}

export async function getJob(db: Executor, id: number): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Jobs, newest first: all, or those of these companies plus those of these single subclients. */
export async function listJobs(
  db: Executor,
  q: { scope?: { companies: readonly number[]; subclientIds: readonly number[] }; offset: number; limit: number },
): Promise<{ rows: JobRow[]; total: number }> {
  let base = db.selectFrom('jobs');
  if (q.scope) {
    const { companies, subclientIds } = q.scope;
    if (companies.length === 0 && subclientIds.length === 0) return { rows: [], total: 0 };
    base = base.where((eb) =>
      eb.or([
        ...(companies.length ? [eb('company_id', 'in', companies)] : []),
        ...(subclientIds.length ? [eb('subclient_id', 'in', subclientIds)] : []),
      ]),
    );
  }
  const [rows, total] = await Promise.all([
    base.selectAll().orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

const ITEM_COLUMNS = 9;
/** Rows per INSERT on SQLite: as many as its 32 766 bound parameters allow. */
const SQLITE_ITEM_BATCH = Math.floor(32_766 / ITEM_COLUMNS);
/** Rows per INSERT on PostgreSQL: nine array parameters whatever the size; large batches, fewer round trips. */
const POSTGRES_ITEM_BATCH = 20_000;
const SQLITE_ITEM_INSERT = (rows: number) =>
  `insert into "catalogue_items" ("job_id", "subclient_id", "folder", "name", "path", "is_folder", "size", "mtime", "deleted") values ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
/** The text of a full batch, built once (the store prepares each text once). */
let fullSqliteInsert: string | undefined;

/** Inserts items; one path twice in one job is a unique violation. */
export async function insertItems(db: Executor, dialect: Dialect, items: readonly CatalogueItem[]): Promise<void> {
  if (dialect === 'postgres') {
    for (let i = 0; i < items.length; i += POSTGRES_ITEM_BATCH) {
      const chunk = items.slice(i, i + POSTGRES_ITEM_BATCH);
      // Nine array parameters, whatever the chunk's size: parsed and planned once.
      const col = <K extends keyof CatalogueItem>(k: K) => chunk.map((r) => r[k]);
      await sql`insert into catalogue_items
          (job_id, subclient_id, folder, name, path, is_folder, size, mtime, deleted)
        select * from unnest(${col('job_id')}::int[], ${col('subclient_id')}::int[], ${col('folder')}::text[],
          ${col('name')}::text[], ${col('path')}::text[], ${col('is_folder')}::int[], ${col('size')}::bigint[],
          ${col('mtime')}::bigint[], ${col('deleted')}::int[])`.execute(db);
    }
    return;
  }
  // Raw multi-row INSERTs: Kysely building and compiling thousands of value nodes costs more than SQLite's insert.
  for (let i = 0; i < items.length; i += SQLITE_ITEM_BATCH) {
    const n = Math.min(SQLITE_ITEM_BATCH, items.length - i);
    const params: unknown[] = new Array(n * ITEM_COLUMNS);
    for (let k = 0, p = 0; k < n; k++) {
      const r = items[i + k] as CatalogueItem;
      params[p++] = r.job_id;
      params[p++] = r.subclient_id;
      params[p++] = r.folder;
      params[p++] = r.name;
      params[p++] = r.path;
      params[p++] = r.is_folder;
      params[p++] = r.size;
      params[p++] = r.mtime;
      params[p++] = r.deleted;
    }
    let text: string;
    if (n === SQLITE_ITEM_BATCH) {
      fullSqliteInsert ??= SQLITE_ITEM_INSERT(n);
      text = fullSqliteInsert;
    } else text = SQLITE_ITEM_INSERT(n);
    await db.executeQuery(CompiledQuery.raw(text, params));
  }
}

export interface BrowseItem extends CatalogueItem {
  /** The end time of the job that holds this version. */
  backup_time: number;
}

export interface BrowseQuery {
  subclientIds: readonly number[];
  /** Epoch seconds; jobs that ended in [fromTime, toTime]. */
  fromTime: number;
  toTime: number;
  /** browse: the children of this folder key; find: everything beneath it. */
  folder: string;
  mode: 'browse' | 'find' | 'versions';
  /** find: names matching this LIKE pattern (case-insensitive). */
  nameLike?: string;
  /** versions: the one item, by folder and name. */
  name?: string;
  showDeleted: boolean;
  offset: number;
  limit: number;
}

/**
 * One page of a browse: the latest version of each child (browse), of each
 * item beneath (find), or every version of one item (versions), in the jobs
 * of the subclient that ended in the time range. Deleted items are left out
 * unless asked for. Folders first, then by name.
 */
export async function browseItems(db: Executor, q: BrowseQuery): Promise<{ rows: BrowseItem[]; total: number }> {
  if (q.subclientIds.length === 0) return { rows: [], total: 0 };
  let inRange = db
    .selectFrom('catalogue_items as i')
    .innerJoin('jobs as j', 'j.id', 'i.job_id')
    .where('i.subclient_id', 'in', q.subclientIds)
    .where('j.job_type', '=', 'Backup')
    .where('j.end_time', '>=', q.fromTime)
    .where('j.end_time', '<=', q.toTime);
  if (q.mode === 'browse') inRange = inRange.where('i.folder', '=', q.folder);
  else if (q.mode === 'versions') inRange = inRange.where('i.folder', '=', q.folder).where('i.name', '=', q.name ?? '');
  else {
    const prefix = q.folder === '/' ? '/' : `${q.folder}/`;
    inRange = inRange.where((eb) =>
      eb.or([eb('i.folder', '=', q.folder), eb(sql`substr(i.folder, 1, ${prefix.length})`, '=', prefix)]),
    );
    if (q.nameLike) inRange = inRange.where(sql<boolean>`lower(i.name) like ${q.nameLike} escape '\\'`);
  }
  const cols = [
    'i.job_id',
    'i.subclient_id',
    'i.folder',
    'i.name',
    'i.path',
    'i.is_folder',
    'i.size',
    'i.mtime',
    'i.deleted',
    'j.end_time as backup_time',
  ] as const;
  if (q.mode === 'versions') {
    const [rows, total] = await Promise.all([
      inRange
        .select(cols)
        .orderBy('j.end_time', 'desc')
        .orderBy('i.job_id', 'desc')
        .limit(q.limit)
        .offset(q.offset)
        .execute(),
      inRange.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map(num), total: Number(total.n) };
  }
  // The latest version of each (folder, name): the row of the newest job that holds it.
  const ranked = inRange.select([
    ...cols,
    sql<number>`row_number() over (partition by i.folder, i.name order by j.end_time desc, i.job_id desc)`.as('rn'),
  ]);
  let latest = db.selectFrom(ranked.as('r')).where('r.rn', '=', 1);
  if (!q.showDeleted) latest = latest.where('r.deleted', '=', 0);
  // The page and the count in one evaluation: the ranking reads the whole folder, once rather than twice.
  const page = await latest
    .select([
      'r.job_id',
      'r.subclient_id',
      'r.folder',
      'r.name',
      'r.path',
      'r.is_folder',
      'r.size',
      'r.mtime',
      'r.deleted',
      'r.backup_time',
      sql<number>`count(*) over ()`.as('total_count'),
    ])
    .orderBy('r.is_folder', 'desc')
    .orderBy('r.folder')
    .orderBy('r.name')
    .limit(q.limit)
    .offset(q.offset)
    .execute();
  // A page past the end holds no row to carry the count: count apart.
  const total = page.length
    ? Number(page[0]?.total_count)
    : Number((await latest.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { rows: page.map(({ total_count: _, ...r }) => num(r)), total };
}

const num = (r: BrowseItem): BrowseItem => ({
  ...r,
  size: Number(r.size),
  mtime: Number(r.mtime),
  backup_time: Number(r.backup_time),
});

/** Stored application ids and OSes of some entities (those without a row have neither). */
export async function attributesOf(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, { appId: number | null; os: string | null }>> {
  const out = new Map<number, { appId: number | null; os: string | null }>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db
      .selectFrom('entity_attributes')
      .select(['entity_id', 'app_id', 'os'])
      .where('entity_id', 'in', ids.slice(i, i + 1000))
      .execute();
    for (const r of rows) out.set(r.entity_id, { appId: r.app_id, os: r.os });
  }
  return out;
}
