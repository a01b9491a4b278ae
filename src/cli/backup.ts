import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { verifyAudit } from '../audit/verify.js';
import { type Config, redactDb, storeKind } from '../config.js';
import { openStore } from '../store/db.js';
import { MIGRATIONS } from '../store/migrate.js';
import { CliError, EXIT } from './errors.js';

// `bulwark backup FILE` and `bulwark restore FILE`, SQLite only (README "Backup
// and restore"). A backup is one consistent snapshot (VACUUM INTO reads in one
// transaction, which WAL lets writers go on beside), written 0600 under a
// temporary name and renamed into place, so FILE is whole or not there. A
// restore checks a copy of the backup as fully as `serve` and `audit verify`
// would, and swaps it in only while no other process has the database open.

const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

export type Progress = (line: string) => void;

const PG_STORY =
  'backup and restore are for the SQLite store; BULWARK_DB is a PostgreSQL database: back it up with pg_dump, or base backups and WAL archiving, and keep the master key apart (README "Backup and restore")';

/** The SQLite file BULWARK_DB names, or a refusal saying what to do instead. */
function sqliteFileOf(config: Config): string {
  const kind = storeKind(config.db);
  if (kind === 'postgres') throw new CliError(PG_STORY);
  if (kind !== 'sqlite') throw new CliError(`BULWARK_DB=${redactDb(config.db)} is not a SQLite file`);
  return path.resolve(config.db);
}

const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** A fresh, empty, owner-only file beside `target`, for writing before a rename. */
function tempBeside(target: string, what: string): string {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${what}-${randomBytes(6).toString('hex')}`);
  fs.closeSync(fs.openSync(temp, 'wx', PRIVATE_FILE));
  return temp;
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes a rename in `dir` durable (a crash after it keeps the new name). */
function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Puts `temp` at `target`: replacing it with `force`, otherwise never (a hard
 * link fails on an existing name, atomically, where a check then a rename
 * could race another writer).
 */
function moveInto(temp: string, target: string, force: boolean): void {
  if (force) {
    fs.renameSync(temp, target);
  } else {
    try {
      fs.linkSync(temp, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new CliError(`${target} exists; --force replaces it`);
      }
      throw e;
    }
    fs.rmSync(temp);
  }
  fsyncDir(path.dirname(target));
}

// VACUUM INTO runs in a worker so the main thread can report progress: one
// statement, which would otherwise hold the event loop until it ends.
const VACUUM_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.source, { fileMustExist: true });
try {
  db.pragma('busy_timeout = 5000');
  db.prepare('VACUUM INTO ?').run(workerData.dest);
} finally {
  db.close();
}
parentPort.postMessage('done');
`;

function vacuumInto(source: string, dest: string, progress: Progress): Promise<void> {
  const require = createRequire(import.meta.url);
  const worker = new Worker(VACUUM_WORKER, {
    eval: true,
    workerData: { module: require.resolve('better-sqlite3'), source, dest },
  });
  const total = fs.statSync(source).size;
  const tick = setInterval(() => {
    const written = fs.statSync(dest, { throwIfNoEntry: false })?.size ?? 0;
    progress(`written ${mib(written)} of about ${mib(total)}`);
  }, 1000);
  return new Promise<void>((resolve, reject) => {
    let done = false;
    worker.on('message', () => {
      done = true;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (done) resolve();
      else reject(new Error(`the backup stopped (worker exit ${code})`));
    });
  }).finally(() => clearInterval(tick));
}

/** Refuses anything but an existing Bulwark SQLite file, as the other commands do (exit 3). */
async function requireBulwarkFile(file: string): Promise<void> {
  await openStore(file, { create: false }).close();
}

export interface BackupResult {
  file: string;
  bytes: number;
}

/** `bulwark backup FILE [--force]`. */
export async function backup(config: Config, file: string, force: boolean, progress: Progress): Promise<BackupResult> {
  const source = sqliteFileOf(config);
  const target = path.resolve(file);
  if (target === source) throw new CliError(`${file} is the database itself`);
  if (!force && fs.existsSync(target)) throw new CliError(`${target} exists; --force replaces it`);
  await requireBulwarkFile(source);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: PRIVATE_DIR });
  const temp = tempBeside(target, 'backup');
  try {
    await vacuumInto(source, temp, progress);
    // VACUUM INTO wrote into the empty file made 0600; make sure no umask or rewrite widened it.
    fs.chmodSync(temp, PRIVATE_FILE);
    fsyncFile(temp);
    moveInto(temp, target, force);
  } finally {
    fs.rmSync(temp, { force: true });
  }
  return { file: target, bytes: fs.statSync(target).size };
}

export interface Checked {
  migrations: number;
  auditRecords: number;
}

/**
 * What makes `file` fit to serve: SQLite's integrity check, a Bulwark
 * database no newer than this version, and an intact audit chain. Throws a
 * CliError (exit 1) naming the first failure.
 */
export async function checkBackup(file: string, progress: Progress): Promise<Checked> {
  const bad = (why: string) => new CliError(`the backup ${file} is not fit to restore: ${why}`, EXIT.CHECK_FAILED);
  let db: SQLite.Database;
  try {
    db = new SQLite(file, { fileMustExist: true });
    db.pragma('schema_version');
  } catch (e) {
    throw bad(`not a SQLite database (${(e as { code?: string }).code ?? (e as Error).message})`);
  }
  let names: string[];
  try {
    progress('checking integrity');
    const integrity = db.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>;
    if (integrity.length !== 1 || integrity[0]?.integrity_check !== 'ok') {
      throw bad(`integrity check: ${integrity.map((r) => r.integrity_check).join('; ')}`);
    }
    const table = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'bulwark_migrations'").get();
    if (!table) throw bad('not a Bulwark database (it has no bulwark_migrations table)');
    names = (db.prepare('select name from bulwark_migrations').pluck().all() as string[]).sort();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw bad((e as Error).message);
  } finally {
    db.close();
  }
  const known = new Set(MIGRATIONS.map((m) => m.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw bad(`it was migrated by a newer Bulwark (${unknown.join(', ')})`);
  const store = openStore(file, { create: false });
  try {
    const audit = await verifyAudit(store.db, (n) => progress(`checked ${n} audit records`));
    if (!audit.ok) {
      const first = audit.problems[0];
      throw bad(
        `its audit chain is broken (${audit.problems.length} problem(s); record ${first?.seq}: ${first?.problem})`,
      );
    }
    return { migrations: names.length, auditRecords: audit.checked };
  } finally {
    await store.close();
  }
}

/**
 * Holds `file` so that no other process has it open, or refuses. A process
 * using a WAL database keeps a shared lock on it for as long as it has it
 * open, so leaving WAL mode (which needs every other connection gone) fails
 * at once while a server, or any command, holds it. The exclusive lock then
 * keeps newcomers out until the swap is done.
 */
function holdAlone(file: string): SQLite.Database {
  const db = new SQLite(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = DELETE');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('begin exclusive');
    return db;
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new CliError(
        `${file} is in use by another process (a running bulwark serve?): stop it, then restore`,
        EXIT.STORE,
      );
    }
    throw e;
  }
}

export interface RestoreResult extends Checked {
  file: string;
}

/** `bulwark restore FILE [--force]`: replaces BULWARK_DB with a checked copy of FILE. */
export async function restore(
  config: Config,
  file: string,
  force: boolean,
  progress: Progress,
): Promise<RestoreResult> {
  const target = sqliteFileOf(config);
  const from = path.resolve(file);
  if (!fs.existsSync(from)) throw new CliError(`cannot read ${file} (ENOENT)`);
  if (from === target) throw new CliError(`${file} is the database itself`);
  const exists = fs.existsSync(target);
  if (exists && !force) throw new CliError(`${target} exists; --force replaces it with the backup`);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: PRIVATE_DIR });
  // Checked and swapped in as a private copy: the backup itself is never changed
  // (opening it would switch it to WAL), and the copy is what gets renamed.
  const temp = tempBeside(target, 'restore');
  let lock: SQLite.Database | null = null;
  try {
    progress('copying the backup');
    fs.copyFileSync(from, temp);
    fs.chmodSync(temp, PRIVATE_FILE);
    const checked = await checkBackup(temp, progress);
    fsyncFile(temp);
    if (exists) lock = holdAlone(target);
    fs.renameSync(temp, target);
    fsyncDir(path.dirname(target));
    // A -wal or -shm left beside the old file would be read as the new one's.
    for (const suffix of ['-wal', '-shm', '-journal']) fs.rmSync(`${target}${suffix}`, { force: true });
    return { file: target, ...checked };
  } finally {
    lock?.close();
    fs.rmSync(temp, { force: true });
  }
}
