import { CompiledQuery, type RawBuilder, sql } from 'kysely';
import { foldAscii } from '../domain/backup-paths.js';
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

/** What POST Jobs filters on (cvpysdk JobController), beyond who may see a job. */
export interface JobFilter {
  /** Only jobs of these subclients. */
  subclientIds?: readonly number[];
  /** Only jobs of these types (Backup, Restore). */
  types?: ReadonlyArray<'Backup' | 'Restore'>;
  /** active: not yet ended at `now`; finished: ended by `now`. */
  category: 'all' | 'active' | 'finished';
  /** Finished jobs that ended before this (epoch s) are left out; active ones are always in. */
  endedSince?: number;
  now: number;
  ascending: boolean;
}

/** Jobs by id: all, or those of these companies plus those of these single subclients; then the filter's. */
export async function listJobs(
  db: Executor,
  q: {
    scope?: { companies: readonly number[]; subclientIds: readonly number[] };
    filter?: JobFilter;
    offset: number;
    limit: number;
  },
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
  const f = q.filter;
  if (f?.subclientIds) {
    if (f.subclientIds.length === 0) return { rows: [], total: 0 };
    base = base.where('subclient_id', 'in', f.subclientIds);
  }
  if (f?.types) {
    if (f.types.length === 0) return { rows: [], total: 0 };
    base = base.where('job_type', 'in', f.types);
  }
  if (f?.category === 'active') base = base.where('end_time', '>', f.now);
  if (f?.category === 'finished') base = base.where('end_time', '<=', f.now);
  if (f?.endedSince !== undefined) {
    const since = f.endedSince;
    base = base.where((eb) => eb.or([eb('end_time', '>', f.now), eb('end_time', '>=', since)]));
  }
  const [rows, total] = await Promise.all([
    base
      .selectAll()
      .orderBy('id', f?.ascending ? 'asc' : 'desc')
      .limit(q.limit)
      .offset(q.offset)
      .execute(),
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

/**
 * Brings `catalogue_latest` up to date with one backup job's items (already
 * inserted): an item's row is replaced when this job is newer than the one
 * it names (later end, or the same end and a higher id).
 */
export async function updateLatest(db: Executor, jobId: number): Promise<void> {
  // "where true": SQLite's parser needs a WHERE before ON CONFLICT after a SELECT.
  await sql`insert into catalogue_latest
      (subclient_id, folder, name, job_id, backup_time, path, is_folder, size, mtime, deleted)
    select i.subclient_id, i.folder, i.name, i.job_id, j.end_time, i.path, i.is_folder, i.size, i.mtime, i.deleted
    from catalogue_items i join jobs j on j.id = i.job_id
    where i.job_id = ${jobId} and true
    on conflict (subclient_id, folder, name) do update set
      job_id = excluded.job_id, backup_time = excluded.backup_time, path = excluded.path,
      is_folder = excluded.is_folder, size = excluded.size, mtime = excluded.mtime, deleted = excluded.deleted
    where excluded.backup_time > catalogue_latest.backup_time
      or (excluded.backup_time = catalogue_latest.backup_time and excluded.job_id > catalogue_latest.job_id)`.execute(
    db,
  );
}

export interface BrowseItem extends CatalogueItem {
  /** The end time of the job that holds this version. */
  backup_time: number;
  /** versions: the version's number, 1 for its item's oldest in the range. */
  version?: number;
}

/** A size condition of a find: the item's size compared to `bytes`. */
export interface SizeFilter {
  op: '>' | '>=' | '<' | '<=' | '=';
  bytes: number;
}

export interface BrowseQuery {
  /** How the store folds case (fold()). */
  dialect: Dialect;
  subclientIds: readonly number[];
  /** Epoch seconds; jobs that ended in [fromTime, toTime]. */
  fromTime: number;
  toTime: number;
  /**
   * browse: the children of any of these folder keys; find: everything beneath
   * any of them; versions: unused (see `items`). Overlapping folders give each
   * item once.
   */
  folders: readonly string[];
  mode: 'browse' | 'find' | 'versions';
  /** versions: every version of each of these items, by folder key and name. */
  items?: ReadonlyArray<{ folder: string; name: string }>;
  /** find: names matching this LIKE pattern (case-insensitive). */
  nameLike?: string;
  /** Only files whose size meets every condition (folders are left out when there is one). */
  sizes?: readonly SizeFilter[];
  /** Folder keys and names compare case-insensitively (a Windows client's paths). */
  foldCase: boolean;
  showDeleted: boolean;
  offset: number;
  limit: number;
}

/**
 * One page of a browse: the latest version of each child (browse), of each
 * item beneath (find), or every version of the named items (versions), in the
 * jobs of the subclients that ended in the time range. Deleted items are left
 * out unless asked for. Folders first, then by folder and name; versions
 * newest first, each numbered from 1 for its item's oldest in the range.
 */
/**
 * A text folded without case as browse compares names: A-Z only on both
 * stores (SQLite's lower() folds nothing else; PostgreSQL's would fold by the
 * database's locale), as foldAscii does in JS.
 */
function fold(dialect: Dialect, x: RawBuilder<string> | ReturnType<typeof sql.ref>) {
  return dialect === 'postgres'
    ? sql<string>`translate(${x}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`
    : sql<string>`lower(${x})`;
}

export async function browseItems(db: Executor, q: BrowseQuery): Promise<{ rows: BrowseItem[]; total: number }> {
  if (q.subclientIds.length === 0) return { rows: [], total: 0 };
  if (await latestServes(db, q)) return browseLatest(db, q);
  return browseAllVersions(db, q);
}

/**
 * Whether `catalogue_latest` answers this browse: the latest version (browse
 * or find) over a time range that takes in every backup job of the
 * subclients (the default browse: from 0 to now), on exact-case keys (its
 * keys keep the client's case; a Windows client's folded browse ranks
 * versions from the full table).
 */
async function latestServes(db: Executor, q: BrowseQuery): Promise<boolean> {
  if (q.mode === 'versions' || q.foldCase) return false;
  const r = await db
    .selectFrom('jobs')
    .select((eb) => [eb.fn.min('end_time').as('first'), eb.fn.max('end_time').as('last')])
    .where('subclient_id', 'in', q.subclientIds)
    .where('job_type', '=', 'Backup')
    .executeTakeFirst();
  if (r?.first === null || r?.first === undefined) return true;
  return Number(r.first) >= q.fromTime && Number(r.last) <= q.toTime;
}

/** browseItems from `catalogue_latest`: one subclient's page in index order, no ranking of versions. */
async function browseLatest(db: Executor, q: BrowseQuery): Promise<{ rows: BrowseItem[]; total: number }> {
  if (q.folders.length === 0) return { rows: [], total: 0 };
  let inScope = db.selectFrom('catalogue_latest as l').where('l.subclient_id', 'in', q.subclientIds);
  if (q.mode === 'browse') {
    inScope = inScope.where('l.folder', 'in', q.folders);
  } else {
    if (!q.folders.includes('/')) {
      inScope = inScope.where((eb) =>
        eb.or(
          q.folders.flatMap((f) => [
            eb('l.folder', '=', f),
            eb(sql`substr(l.folder, 1, ${f.length + 1})`, '=', `${f}/`),
          ]),
        ),
      );
    }
    if (q.nameLike)
      inScope = inScope.where(sql<boolean>`${fold(q.dialect, sql.ref('l.name'))} like ${q.nameLike} escape '\\'`);
  }
  const cols = [
    'l.job_id',
    'l.subclient_id',
    'l.folder',
    'l.name',
    'l.path',
    'l.is_folder',
    'l.size',
    'l.mtime',
    'l.deleted',
    'l.backup_time',
  ] as const;
  if (q.subclientIds.length > 1) {
    // A backup set's subclients may hold the same path: the newest of them, as the full table ranks.
    const ranked = inScope.select([
      ...cols,
      sql<number>`row_number() over (partition by l.folder, l.name order by l.backup_time desc, l.job_id desc)`.as(
        'rn',
      ),
    ]);
    let latest = db.selectFrom(ranked.as('r')).where('r.rn', '=', 1);
    if (!q.showDeleted) latest = latest.where('r.deleted', '=', 0);
    if (q.sizes?.length) {
      latest = latest.where('r.is_folder', '=', 0);
      for (const s of q.sizes) latest = latest.where('r.size', s.op, s.bytes);
    }
    const [rows, total] = await Promise.all([
      latest
        .select(['r.job_id', 'r.subclient_id', 'r.folder', 'r.name', 'r.path', 'r.is_folder', 'r.size', 'r.mtime'])
        .select(['r.deleted', 'r.backup_time'])
        .orderBy('r.is_folder', 'desc')
        .orderBy('r.folder')
        .orderBy('r.name')
        .limit(q.limit)
        .offset(q.offset)
        .execute(),
      latest.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map(num), total: Number(total.n) };
  }
  let live = inScope;
  if (!q.showDeleted) live = live.where('l.deleted', '=', 0);
  if (q.sizes?.length) {
    live = live.where('l.is_folder', '=', 0);
    for (const s of q.sizes) live = live.where('l.size', s.op, s.bytes);
  }
  // The page's keys from the index alone (catalogue_latest_page_idx covers the
  // order and the deleted filter: skipped rows are index entries, not table
  // reads), then those rows.
  const keys = live
    .select(['l.subclient_id as ks', 'l.folder as kf', 'l.name as kn'])
    .orderBy('l.is_folder', 'desc')
    .orderBy('l.folder')
    .orderBy('l.name')
    .limit(q.limit)
    .offset(q.offset);
  const [rows, total] = await Promise.all([
    db
      .selectFrom(keys.as('k'))
      .innerJoin('catalogue_latest as l', (j) =>
        j.onRef('l.subclient_id', '=', 'k.ks').onRef('l.folder', '=', 'k.kf').onRef('l.name', '=', 'k.kn'),
      )
      .select(cols)
      .orderBy('l.is_folder', 'desc')
      .orderBy('l.folder')
      .orderBy('l.name')
      .execute(),
    live.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(num), total: Number(total.n) };
}

/** browseItems from every version in the range, each item's versions ranked by the job that holds them (what the index must agree with). */
export async function browseAllVersions(db: Executor, q: BrowseQuery): Promise<{ rows: BrowseItem[]; total: number }> {
  // Case folding on both sides in SQL: the stored keys keep the client's case.
  const key = (col: 'i.folder' | 'i.name') => (q.foldCase ? fold(q.dialect, sql.ref(col)) : sql.ref(col));
  const val = (v: string) => (q.foldCase ? sql<string>`${foldAscii(v)}` : sql<string>`${v}`);
  let inRange = db
    .selectFrom('catalogue_items as i')
    .innerJoin('jobs as j', 'j.id', 'i.job_id')
    // On the job too: the jobs in range are found by jobs_subclient_idx, their items by (job, folder, name).
    .where('j.subclient_id', 'in', q.subclientIds)
    .where('i.subclient_id', 'in', q.subclientIds)
    .where('j.job_type', '=', 'Backup')
    .where('j.end_time', '>=', q.fromTime)
    .where('j.end_time', '<=', q.toTime);
  if (q.mode === 'browse') {
    if (q.folders.length === 0) return { rows: [], total: 0 };
    inRange = inRange.where((eb) => eb.or(q.folders.map((f) => eb(key('i.folder'), '=', val(f)))));
  } else if (q.mode === 'versions') {
    const items = q.items ?? [];
    if (items.length === 0) return { rows: [], total: 0 };
    inRange = inRange.where((eb) =>
      eb.or(
        items.map((it) => eb.and([eb(key('i.folder'), '=', val(it.folder)), eb(key('i.name'), '=', val(it.name))])),
      ),
    );
  } else {
    if (q.folders.length === 0) return { rows: [], total: 0 };
    inRange = inRange.where((eb) =>
      eb.or(
        q.folders.flatMap((f) => {
          if (f === '/') return [eb.lit(true)];
          const prefix = `${f}/`;
          return [
            eb(key('i.folder'), '=', val(f)),
            eb(sql`substr(${key('i.folder')}, 1, ${prefix.length})`, '=', val(prefix)),
          ];
        }),
      ),
    );
    if (q.nameLike)
      inRange = inRange.where(sql<boolean>`${fold(q.dialect, sql.ref('i.name'))} like ${q.nameLike} escape '\\'`);
  }
  // Sizes change between versions: the filter applies to each version listed, or to each item's latest.
  if (q.mode === 'versions' && q.sizes?.length) {
    inRange = inRange.where('i.is_folder', '=', 0);
    for (const s of q.sizes) inRange = inRange.where('i.size', s.op, s.bytes);
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
  const itemKey = sql`${key('i.folder')}, ${key('i.name')}`;
  if (q.mode === 'versions') {
    const numbered = inRange.select([
      ...cols,
      sql<number>`count(*) over (partition by ${itemKey}) - row_number() over (partition by ${itemKey} order by j.end_time desc, i.job_id desc) + 1`.as(
        'version',
      ),
    ]);
    const [rows, total] = await Promise.all([
      db
        .selectFrom(numbered.as('v'))
        .selectAll()
        .orderBy('v.folder')
        .orderBy('v.name')
        .orderBy('v.backup_time', 'desc')
        .orderBy('v.job_id', 'desc')
        .limit(q.limit)
        .offset(q.offset)
        .execute(),
      inRange.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map((r) => ({ ...num(r), version: Number(r.version) })), total: Number(total.n) };
  }
  // The latest version of each (folder, name): the row of the newest job that holds it.
  const ranked = inRange.select([
    ...cols,
    sql<number>`row_number() over (partition by ${itemKey} order by j.end_time desc, i.job_id desc)`.as('rn'),
  ]);
  let latest = db.selectFrom(ranked.as('r')).where('r.rn', '=', 1);
  if (!q.showDeleted) latest = latest.where('r.deleted', '=', 0);
  if (q.sizes?.length) {
    latest = latest.where('r.is_folder', '=', 0);
    for (const s of q.sizes) latest = latest.where('r.size', s.op, s.bytes);
  }
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
