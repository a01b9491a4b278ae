import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  type Compilable,
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  PostgresDriver,
  SqliteDialect,
  SqliteDriver,
  type Transaction,
} from 'kysely';
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import { ConfigError, redactDb, storeKind } from '../config.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Repositories take either, so a caller can compose several in one transaction. */
export type Executor = Db | Tx;

export interface Store {
  db: Db;
  dialect: Dialect;
  /**
   * SQLite only: a value that changes whenever anything may have been
   * committed to the database since it was last read, by this process or
   * another, read without a query. Lets a reader skip re-reading a version row.
   */
  changeSignal?: () => string;
  /**
   * PostgreSQL only: how many transactions this process has committed through
   * this store. A reader told of changes by NOTIFY reads the version row
   * instead when this moved: its own commit's notification may still be on
   * its way back.
   */
  localCommits?: () => number;
  /**
   * PostgreSQL only: a new client outside the pool, to the same database and
   * schema, for a connection that must stay its own (LISTEN).
   */
  newClient?: () => pg.Client;
  /** PostgreSQL only: the pool's counts, for /metrics. */
  pool?: { readonly totalCount: number; readonly idleCount: number; readonly waitingCount: number };
  close(): Promise<void>;
}

// int8 (bigint, count(*)) arrives as a string by default; our bigints are audit
// sequence numbers and counts, far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * Every SQLite transaction here writes, so it starts with BEGIN IMMEDIATE:
 * it takes the write lock up front (waiting up to busy_timeout for another
 * process, such as a CLI command, to finish) instead of failing with
 * SQLITE_BUSY when a deferred transaction later tries to upgrade its lock.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  constructor(
    cfg: ConstructorParameters<typeof SqliteDriver>[0],
    private readonly onCommit: () => void,
  ) {
    super(cfg);
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await super.commitTransaction(connection);
    this.onCommit();
  }
}

class CountingPostgresDriver extends PostgresDriver {
  constructor(
    cfg: ConstructorParameters<typeof PostgresDriver>[0],
    private readonly onCommit: () => void,
  ) {
    super(cfg);
  }
  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await super.commitTransaction(connection);
    this.onCommit();
  }
}

class CountingPostgresDialect extends PostgresDialect {
  constructor(
    private readonly cfg: ConstructorParameters<typeof PostgresDialect>[0],
    private readonly onCommit: () => void,
  ) {
    super(cfg);
  }
  override createDriver(): Driver {
    return new CountingPostgresDriver(this.cfg, this.onCommit);
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly cfg: ConstructorParameters<typeof SqliteDialect>[0],
    private readonly onCommit: () => void,
  ) {
    super(cfg);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.cfg, this.onCommit);
  }
}

/**
 * A query built and compiled once per database handle; each call binds new
 * values. Kysely otherwise rebuilds and recompiles every query, which is most
 * of a one-row read's cost. `build(...sample)` must bind exactly its
 * arguments, in order (checked when first compiled).
 */
export function precompiled<A extends unknown[], R>(
  build: (db: Executor, ...args: A) => Compilable<R>,
  sample: A,
): (db: Executor, ...args: A) => Promise<R[]> {
  const cache = new WeakMap<Executor, CompiledQuery<R>>();
  return async (db, ...args) => {
    let compiled = cache.get(db);
    if (!compiled) {
      compiled = build(db, ...sample).compile();
      if (JSON.stringify(compiled.parameters) !== JSON.stringify(sample)) {
        throw new Error(`precompiled query binds ${JSON.stringify(compiled.parameters)}, not its arguments`);
      }
      cache.set(db, compiled);
    }
    return (await db.executeQuery<R>({ ...compiled, parameters: args })).rows;
  };
}

/**
 * A SQLite file, created 0600 in a folder created 0700 when new: SQLite
 * creates the -wal and -shm files with the database file's mode. With
 * `create` false the file must exist and hold Bulwark's tables.
 */
function openSqliteFile(target: string, create: boolean): SQLite.Database {
  const file = path.resolve(target);
  if (!create) {
    if (!fs.existsSync(file)) throw new NoStoreError(`no database at ${file}`);
    const sqlite = new SQLite(file, { fileMustExist: true });
    try {
      const migrations = sqlite
        .prepare("select 1 from sqlite_master where type = 'table' and name = 'bulwark_migrations'")
        .get();
      if (!migrations) throw new NoStoreError(`${file} is not a Bulwark database (it has no bulwark_migrations table)`);
    } catch (e) {
      sqlite.close();
      throw e;
    }
    return sqlite;
  }
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIR });
    fs.closeSync(fs.openSync(file, 'wx', PRIVATE_FILE));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw new NoStoreError(`cannot create ${file}: ${code ?? (e as Error).message}`);
  }
  return new SQLite(file);
}

/** Statements that may write (raw SQL counts, to be safe). */
const WRITE_NODES = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode', 'RawNode']);

export interface OpenOptions {
  /** PostgreSQL only: a schema to use instead of public (tests isolate per file). */
  schema?: string;
  poolSize?: number;
  /**
   * False: the store must exist already. A SQLite file must be there and hold
   * a Bulwark database, checked before anything is written to it, and nothing
   * is created (no folder, no file). PostgreSQL databases are never created
   * here; the caller checks that the tables are there.
   */
  create?: boolean;
  /** PostgreSQL only: give up connecting after this long (default: the OS's TCP timeout). */
  connectTimeoutMs?: number;
}

/** The store named does not exist, or is not a Bulwark database. */
export class NoStoreError extends Error {
  readonly code = 'BULWARK_NO_STORE';
}

/** Mode of the SQLite file and the folder made for it: they hold token and password hashes. */
const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

/**
 * Opens (and for a new SQLite file, creates) the store `target` names: a
 * SQLite path, ':memory:' or a postgres:// URL. Any other URL scheme is
 * refused, so a mistyped URL never becomes a file of that name.
 */
export function openStore(target: string, opts: OpenOptions = {}): Store {
  const kind = storeKind(target);
  if (kind === null) {
    throw new ConfigError(`not a SQLite file path or a postgres:// URL: "${redactDb(target)}"`);
  }
  if (kind === 'postgres') {
    const connection = {
      connectionString: target,
      ...(opts.connectTimeoutMs ? { connectionTimeoutMillis: opts.connectTimeoutMs } : {}),
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    };
    const pool = new pg.Pool({ ...connection, max: opts.poolSize ?? 10 });
    // An idle client losing its connection must not crash the process.
    pool.on('error', () => {});
    let commits = 0;
    const db = new Kysely<Database>({
      dialect: new CountingPostgresDialect({ pool }, () => {
        commits++;
      }),
    });
    return {
      db,
      dialect: 'postgres',
      pool,
      localCommits: () => commits,
      newClient: () => new pg.Client({ ...connection, keepAlive: true }),
      close: () => db.destroy(),
    };
  }
  const sqlite = kind === 'memory' ? new SQLite(target) : openSqliteFile(target, opts.create ?? true);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // data_version moves when another connection commits; our own commits (and
  // statements outside a transaction, which commit themselves) are counted here.
  let localCommits = 0;
  const counted = () => {
    localCommits++;
  };
  // Kysely prepares every statement afresh; SQLite parsing the same SQL again is
  // most of a small query's cost. Statements are only run whole (all/run), never
  // left iterating, so one prepared statement can serve every caller.
  const statements = new LRUCache<string, SQLite.Statement>({ max: 1000 });
  const database = {
    prepare: (text: string) => {
      let stmt = statements.get(text);
      if (!stmt) {
        stmt = sqlite.prepare(text);
        statements.set(text, stmt);
      }
      return stmt;
    },
    close: () => sqlite.close(),
  };
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  const writes = new WeakSet<object>();
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database }, counted),
    plugins: [
      {
        transformQuery: (a) => {
          if (WRITE_NODES.has(a.node.kind)) writes.add(a.queryId);
          return a.node;
        },
        // After the statement ran: counting before it could let a reader cache what it is about to change.
        transformResult: async (a) => {
          if (writes.has(a.queryId)) counted();
          return a.result;
        },
      },
    ],
  });
  return {
    db,
    dialect: 'sqlite',
    // Prepared once: better-sqlite3's pragma() prepares a statement on every call.
    changeSignal: () => `${dataVersion.get()}:${localCommits}`,
    close: () => db.destroy(),
  };
}
