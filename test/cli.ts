import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { bootstrap } from '../src/store/bootstrap.js';
import { openStore, type Store } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { ADMIN_PASSWORD, DIALECT, TEST_DB } from './harness.js';

export const ROOT = path.resolve(import.meta.dirname, '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The command the CLI tests spawn: the built CLI (`dist/`, what `npm start` and
 * `npx bulwark` run, and quick to start) when it is up to date with `src/`, as
 * after `npm ci` or `npm run build`; otherwise the sources through tsx, so a
 * test never runs stale code.
 */
export const CLI: readonly string[] =
  spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--check']).status === 0
    ? [path.join(ROOT, 'dist/src/main.js')]
    : [
        '--import',
        pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
        path.join(ROOT, 'src/main.ts'),
      ];

export interface RunOptions {
  /** Working folder of the process (the repository by default). */
  cwd?: string;
}

/** Runs `bulwark …` with the given environment (LOG_LEVEL=warn unless given). */
export function runCli(
  args: string[],
  env: Record<string, string>,
  stdin?: string,
  opts: RunOptions = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

export interface RunningServer {
  /** The port it listens on (PORT=0 picks a free one). */
  port: number;
  url: string;
  /** Everything it wrote so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash: nothing runs after it), resolved once the process is gone. */
  crash(): Promise<void>;
}

/**
 * Starts `bulwark serve` on a free port (LOG_LEVEL=info: the port is read from
 * the log) and resolves once it answers /readyz; rejects with its output if it
 * exits first.
 */
export function startServer(env: Record<string, string>, opts: RunOptions = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    let found = false;
    child.stdout.on('data', async (d) => {
      out += d;
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (!m || found) return;
      found = true;
      const port = Number(m[1]);
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 600; i++) {
        const ready = await fetch(`${url}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      resolve({
        port,
        url,
        stdout: () => out,
        stderr: () => err,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
        crash: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
    void exited.then((code) => {
      if (!found) reject(new Error(`bulwark serve exited ${code} before listening:\n${out}\n${err}`));
    });
  });
}

/**
 * A database for processes other than the test's own: a SQLite file in a
 * temporary folder, or a fresh PostgreSQL schema named in the URL's options.
 */
export async function externalDb(): Promise<{ url: string; dir: string; drop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-test-'));
  if (DIALECT === 'sqlite') {
    return {
      url: path.join(dir, 'bulwark.db'),
      dir,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `c_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: TEST_DB });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const sep = TEST_DB.includes('?') ? '&' : '?';
  return {
    url: `${TEST_DB}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    dir,
    drop: async () => {
      const c = new pg.Client({ connectionString: TEST_DB });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Cleanups the suite pushes, run after each test, last first. */
export function cleanupAfterEach(): Array<() => Promise<unknown>> {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });
  return cleanups;
}

/**
 * An external database, migrated, with the administrator created, opened
 * here too: the environment that points a CLI process at it, and the store.
 * Closed and dropped by `cleanups`.
 */
export async function bootstrappedDb(cleanups: Array<() => Promise<unknown>>) {
  const ext = await externalDb();
  cleanups.push(() => ext.drop());
  const store: Store = openStore(ext.url);
  cleanups.push(() => store.close());
  await migrate(store);
  await bootstrap(store, ADMIN_PASSWORD, new Date());
  return { env: { BULWARK_DB: ext.url, BULWARK_DATA_DIR: ext.dir }, dir: ext.dir, store, url: ext.url };
}

/**
 * `count` Bulwark processes on one new database, sharing no memory: PostgreSQL
 * as scale-out runs it, or processes on one SQLite file. The first is started
 * alone, so it creates the database; the others then find it, started
 * together. `env` is added to each process's environment.
 */
export function severalNodes(count: number, env: Record<string, string> = {}): { started(): RunningServer[] } {
  let db: Awaited<ReturnType<typeof externalDb>> | undefined;
  const nodes: RunningServer[] = [];
  beforeAll(async () => {
    db = await externalDb();
    const all = {
      BULWARK_DB: db.url,
      BULWARK_DATA_DIR: db.dir,
      BULWARK_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...env,
    };
    nodes.push(await startServer(all));
    const rest = await Promise.allSettled(Array.from({ length: count - 1 }, () => startServer(all)));
    for (const r of rest) if (r.status === 'fulfilled') nodes.push(r.value);
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }, 120_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
  });
  return {
    started() {
      if (nodes.length !== count) throw new Error(`the ${count} nodes are not started`);
      return nodes;
    },
  };
}

/** Two nodes (severalNodes), named a and b. */
export function twoNodes(): { started(): { a: RunningServer; b: RunningServer } } {
  const nodes = severalNodes(2);
  return {
    started() {
      const [a, b] = nodes.started() as [RunningServer, RunningServer];
      return { a, b };
    },
  };
}
