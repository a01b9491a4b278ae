import { sql } from 'kysely';
import { type AuditActor, appendAudit } from '../audit/log.js';
import { type BackupPath, displayPath, folderKey, parseFilePath } from '../domain/backup-paths.js';
import { ENTITY_TYPES } from '../domain/catalogue.js';
import { type CatalogueItem, insertItems, insertJob, jobExists, maxJobId, updateLatest } from '../store/catalogue.js';
import type { Store, Tx } from '../store/db.js';
import type { Line } from './lines.js';

// The catalogue importer (POST Catalogue/Import, `bulwark catalogue import`):
// one backup job a line,
//   {"subclientId":N,"jobId":N?,"backupLevel":"Full"|"Incremental"|"Differential"|"Synthetic Full",
//    "startTime":<epoch s>,"endTime":<epoch s>,
//    "files":[{"path":"/data/a.txt","size":123,"modificationTime":<epoch s>,"deleted":false}]}
// in one transaction: a bad line and nothing is imported (the failure is audited).

export const BACKUP_LEVELS = ['Full', 'Incremental', 'Differential', 'Synthetic Full'] as const;
export type BackupLevel = (typeof BACKUP_LEVELS)[number];

/** The longest line (one job with its files), in characters. */
export const MAX_CATALOGUE_LINE = 64 * 1024 * 1024;
/** Files in one job line. */
export const MAX_FILES_PER_JOB = 1_000_000;
/** Errors listed; the count goes on beyond. */
export const MAX_LISTED_ERRORS = 1000;
/** Epoch seconds up to the end of year 9999. */
const MAX_TIME = 253_402_300_799;
const MAX_JOB_ID = 2 ** 31 - 1;
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

export type CatalogueLineErrorKind = 'invalid' | 'not-found' | 'forbidden' | 'exists';

export interface CatalogueLineError {
  line: number;
  kind: CatalogueLineErrorKind;
  message: string;
}

export interface CatalogueResult {
  line: number;
  jobId: number;
  subclientId: number;
  files: number;
}

/** What the caller may do with a subclient: load its catalogue (its company), or why not. */
export type SubclientAccess = { ok: true; companyId: number } | { ok: false; kind: 'not-found' | 'forbidden' };

/** For the command line, which acts as the operator: any subclient that exists, in its company. */
export async function anySubclient(id: number, tx: Tx): Promise<SubclientAccess> {
  const row = await tx
    .selectFrom('entities')
    .select('company_id')
    .where('id', '=', id)
    .where('type', '=', ENTITY_TYPES.subclient)
    .executeTakeFirst();
  return row ? { ok: true, companyId: row.company_id } : { ok: false, kind: 'not-found' };
}

export interface CatalogueImportOptions {
  actor: AuditActor;
  sourceAddr?: string;
  clock: () => Date;
  /** The company the failure of a refused import is audited in. */
  auditCompanyId: number;
  /** May the caller load this subclient's catalogue; `tx` is the import's transaction, for a lookup. */
  subclient(id: number, tx: Tx): SubclientAccess | Promise<SubclientAccess>;
  onResult?(r: CatalogueResult): void;
  onError?(e: CatalogueLineError): void;
  onProgress?(p: { lines: number; jobs: number; files: number; errors: number }): void;
  progressEvery?: number;
  /** Recorded in the audit details (e.g. the file name). */
  source?: string;
}

export interface CatalogueSummary {
  lines: number;
  jobs: number;
  files: number;
  errors: number;
  committed: boolean;
}

export interface JobSpec {
  subclientId: number;
  jobId: number | null;
  backupLevel: BackupLevel;
  startTime: number;
  endTime: number;
  files: Array<{ path: BackupPath; size: number; mtime: number; deleted: boolean }>;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const isWhole = (v: unknown, max: number, min = 0): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Checks one line's object (subclients and job ids are resolved later). */
export function parseJobSpec(v: unknown): Parsed<JobSpec> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { ok: false, message: 'each line must be a JSON object' };
  }
  const o = v as Record<string, unknown>;
  if (!isWhole(o.subclientId, MAX_JOB_ID, 1)) return { ok: false, message: 'subclientId must be a subclient id' };
  let jobId: number | null = null;
  if (o.jobId !== undefined && o.jobId !== null) {
    if (!isWhole(o.jobId, MAX_JOB_ID, 1))
      return { ok: false, message: `jobId must be a whole number from 1 to ${MAX_JOB_ID}` };
    jobId = o.jobId;
  }
  const level = BACKUP_LEVELS.find(
    (l) => typeof o.backupLevel === 'string' && l.toLowerCase() === o.backupLevel.toLowerCase(),
  );
  if (!level) return { ok: false, message: `backupLevel must be one of ${BACKUP_LEVELS.join(', ')}` };
  if (!isWhole(o.startTime, MAX_TIME)) return { ok: false, message: 'startTime must be epoch seconds' };
  if (!isWhole(o.endTime, MAX_TIME)) return { ok: false, message: 'endTime must be epoch seconds' };
  if (o.endTime < o.startTime) return { ok: false, message: 'endTime is before startTime' };
  if (!Array.isArray(o.files)) return { ok: false, message: 'files must be a list' };
  if (o.files.length > MAX_FILES_PER_JOB)
    return { ok: false, message: `a job holds at most ${MAX_FILES_PER_JOB} files` };
  const files: JobSpec['files'] = [];
  for (const [i, f] of o.files.entries()) {
    if (f === null || typeof f !== 'object' || Array.isArray(f)) {
      return { ok: false, message: `files[${i}] must be an object {"path","size","modificationTime"}` };
    }
    const file = f as Record<string, unknown>;
    const path = parseFilePath(file.path);
    if (!path.ok) return { ok: false, message: `files[${i}].path ${path.problem}` };
    if (!isWhole(file.size, MAX_SIZE))
      return { ok: false, message: `files[${i}].size must be a whole number of bytes` };
    if (!isWhole(file.modificationTime, MAX_TIME)) {
      return { ok: false, message: `files[${i}].modificationTime must be epoch seconds` };
    }
    if (file.deleted !== undefined && file.deleted !== null && typeof file.deleted !== 'boolean') {
      return { ok: false, message: `files[${i}].deleted must be true or false` };
    }
    files.push({ path: path.value, size: file.size, mtime: file.modificationTime, deleted: file.deleted === true });
  }
  return {
    ok: true,
    value: { subclientId: o.subclientId, jobId, backupLevel: level, startTime: o.startTime, endTime: o.endTime, files },
  };
}

/** A job's rows: each file, and each folder its paths imply (size and time summed up from beneath). */
export function itemsOf(jobId: number, spec: JobSpec): Parsed<CatalogueItem[]> {
  const items = new Map<string, CatalogueItem>();
  // The folder items from the top down to each folder key seen: files in one
  // folder (the usual case) find their folders' rows in one lookup. Every item
  // on such a chain is a folder for good: a file's key is refused when taken.
  const chains = new Map<string, CatalogueItem[]>();
  const windows = spec.files[0]?.path.windows;
  const { subclientId } = spec;
  for (const f of spec.files) {
    if (f.path.windows !== windows)
      return { ok: false, message: 'a job holds either Windows or Linux paths, not both' };
    const c = f.path.components;
    const parent = folderKey(c, c.length - 1);
    const name = c.at(-1) as string;
    const fileKey = `${parent}\u0000${name}`;
    if (items.has(fileKey)) {
      const what = items.get(fileKey)?.is_folder ? 'is also a folder of another file' : 'appears twice';
      return { ok: false, message: `${displayPath(f.path)} ${what}` };
    }
    let chain = chains.get(parent);
    if (!chain) {
      chain = [];
      let folder = '/';
      for (let k = 1; k < c.length; k++) {
        const key = `${folder}\u0000${c[k - 1]}`;
        const existing = items.get(key);
        if (existing && !existing.is_folder)
          return { ok: false, message: `${displayPath(f.path, k)} is both a file and a folder` };
        if (existing) chain.push(existing);
        else {
          const item: CatalogueItem = {
            job_id: jobId,
            subclient_id: subclientId,
            folder,
            name: c[k - 1] as string,
            path: displayPath(f.path, k),
            is_folder: 1,
            size: 0,
            mtime: f.mtime,
            deleted: 0,
          };
          items.set(key, item);
          chain.push(item);
        }
        folder = folder === '/' ? `/${c[k - 1]}` : `${folder}/${c[k - 1]}`;
      }
      chains.set(parent, chain);
    }
    for (const folderItem of chain) {
      folderItem.size += f.size;
      if (f.mtime > folderItem.mtime) folderItem.mtime = f.mtime;
    }
    items.set(fileKey, {
      job_id: jobId,
      subclient_id: subclientId,
      folder: parent,
      name,
      path: displayPath(f.path),
      is_folder: 0,
      size: f.size,
      mtime: f.mtime,
      deleted: f.deleted ? 1 : 0,
    });
  }
  return { ok: true, value: [...items.values()] };
}

class Rollback extends Error {}

/** SQLite's page cache during an import, as its pragma takes it (negative: KiB): 128 MiB. */
const IMPORT_CACHE_KIB = -131_072;

/** Imports job lines in one transaction; results and errors are handed out as they happen. */
export async function importCatalogue(
  store: Store,
  source: AsyncIterable<Line>,
  opts: CatalogueImportOptions,
): Promise<CatalogueSummary> {
  const every = opts.progressEvery ?? 1000;
  let lines = 0;
  let jobs = 0;
  let files = 0;
  let errors = 0;
  let range: [number, number] | null = null;
  const perCompany = new Map<number, { jobs: number; files: number; subclients: Set<number> }>();
  const error = (line: number, kind: CatalogueLineErrorKind, message: string) => {
    errors++;
    opts.onError?.({ line, kind, message });
  };
  const progress = () => opts.onProgress?.({ lines, jobs, files, errors });

  const work = async (tx: Tx) => {
    let next = (await maxJobId(tx)) + 1;
    const used = new Set<number>();
    for await (const l of source) {
      lines++;
      if (lines % every === 0) progress();
      if ('tooLong' in l) {
        error(lines, 'invalid', `the line is longer than ${MAX_CATALOGUE_LINE} characters`);
        continue;
      }
      const text = l.text.trim();
      if (text === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        error(lines, 'invalid', 'the line is not valid JSON');
        continue;
      }
      const parsed = parseJobSpec(value);
      if (!parsed.ok) {
        error(lines, 'invalid', parsed.message);
        continue;
      }
      const spec = parsed.value;
      const access = await opts.subclient(spec.subclientId, tx);
      if (!access.ok) {
        error(
          lines,
          access.kind,
          access.kind === 'not-found'
            ? `unknown subclient ${spec.subclientId}`
            : `you may not load the catalogue of subclient ${spec.subclientId}: it needs Data Protection there`,
        );
        continue;
      }
      let jobId = spec.jobId;
      if (jobId !== null && (used.has(jobId) || (await jobExists(tx, jobId)))) {
        error(lines, 'exists', `job ${jobId} already exists`);
        continue;
      }
      if (jobId === null) {
        while (used.has(next)) next++;
        jobId = next++;
      }
      const items = itemsOf(jobId, spec);
      if (!items.ok) {
        error(lines, 'invalid', items.message);
        continue;
      }
      used.add(jobId);
      if (jobId >= next) next = jobId + 1;
      if (errors > 0) continue; // Nothing will be kept: check the rest, write nothing more.
      await insertJob(tx, {
        id: jobId,
        company_id: access.companyId,
        subclient_id: spec.subclientId,
        job_type: 'Backup',
        backup_level: spec.backupLevel,
        start_time: spec.startTime,
        end_time: spec.endTime,
        user_name: opts.actor.name,
        details: '{}',
        created_at: opts.clock().toISOString(),
      });
      await insertItems(tx, store.dialect, items.value);
      await updateLatest(tx, jobId);
      jobs++;
      files += spec.files.length;
      range = range ? [range[0], lines] : [lines, lines];
      const c = perCompany.get(access.companyId) ?? { jobs: 0, files: 0, subclients: new Set<number>() };
      c.jobs++;
      c.files += spec.files.length;
      c.subclients.add(spec.subclientId);
      perCompany.set(access.companyId, c);
      opts.onResult?.({ line: lines, jobId, subclientId: spec.subclientId, files: spec.files.length });
    }
    if (errors > 0) throw new Rollback();
    for (const [companyId, c] of [...perCompany].sort((a, b) => a[0] - b[0])) {
      await appendAudit(tx, {
        actor: opts.actor,
        companyId,
        operation: 'catalogue.import',
        targetType: 'catalogue',
        targetName: `${c.jobs} jobs`,
        outcome: 'success',
        details: {
          jobs: c.jobs,
          files: c.files,
          lines: range ? `${range[0]}-${range[1]}` : '',
          subclients: [...c.subclients].slice(0, 100),
          ...(opts.source ? { source: opts.source } : {}),
        },
        sourceAddr: opts.sourceAddr,
        at: opts.clock(),
      });
    }
  };

  let committed = true;
  try {
    await store.db.transaction().execute(async (tx) => {
      if (store.dialect !== 'sqlite') return work(tx);
      // A large import's index pages outgrow SQLite's default 2 MB page cache and
      // spill to the WAL mid-transaction: a larger cache while it runs, then the old one.
      const before = await sql<{ cache_size: number }>`pragma cache_size`.execute(tx);
      const old = Number(before.rows[0]?.cache_size ?? -2000);
      await sql.raw(`pragma cache_size = ${IMPORT_CACHE_KIB}`).execute(tx);
      try {
        await work(tx);
      } finally {
        await sql.raw(`pragma cache_size = ${Number.isFinite(old) ? old : -2000}`).execute(tx);
      }
    });
  } catch (e) {
    if (!(e instanceof Rollback)) {
      await auditFailure(store, opts, lines, errors, e instanceof Error ? e.message : String(e));
      throw e;
    }
    committed = false;
  }
  if (!committed) await auditFailure(store, opts, lines, errors, `${errors} bad line(s); nothing was imported`);
  progress();
  return committed ? { lines, jobs, files, errors, committed } : { lines, jobs: 0, files: 0, errors, committed };
}

async function auditFailure(store: Store, opts: CatalogueImportOptions, lines: number, errors: number, reason: string) {
  await store.db.transaction().execute((tx) =>
    appendAudit(tx, {
      actor: opts.actor,
      companyId: opts.auditCompanyId,
      operation: 'catalogue.import',
      targetType: 'catalogue',
      outcome: 'failure',
      reason: reason.slice(0, 200),
      details: { lines, errors, ...(opts.source ? { source: opts.source } : {}) },
      sourceAddr: opts.sourceAddr,
      at: opts.clock(),
    }),
  );
}
