// The one harness every benchmark uses: a database (a SQLite file in a
// temporary folder, or a PostgreSQL database of its own created beside
// BULWARK_DB and dropped afterwards), the compiled server started on it,
// logins, and autocannon runs of a route interleaved with bare GET /healthz in
// the same run, so that what is reported is a ratio that means something on a
// shared, noisy machine.
//
// The interface a benchmark exports (bench/run.ts imports every bench/*.ts
// whose text holds `export const bench`, so a new file needs no edit there):
//
//   export const bench: Bench = {
//     name: 'reads',                       // `npm run bench -- reads`
//     summary: 'what it measures',         // one line, for the list and RESULTS.md
//     goals: ['GET Organization ≥ 60 % of bare at 32 connections'],
//     perStore: true,                      // run once per store (SQLite, and PostgreSQL when
//                                          // BULWARK_DB is a postgres:// URL); false: once, in-process
//     async run(ctx) { … return markdown },  // ctx: BenchContext below
//   };
//   if (isMain(import.meta.url)) await runAlone(bench);   // `npx tsx bench/reads.ts` still works
//
// run() returns its results as Markdown (tables made with table()); the runner
// writes them to bench/RESULTS.md under the machine, the commit, the date and
// the command.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import autocannon from 'autocannon';
import pg from 'pg';
import { isPostgresUrl } from '../src/config.js';
import { compiledServer } from './server.js';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const API = '/commandcenter/api';
export const PASSWORD = 'Bench-Passw0rd!';

export type StoreKind = 'sqlite' | 'postgres';

export interface BenchContext {
  /** The store this run is on (in-process benches get 'sqlite' and ignore it). */
  store: StoreKind;
  /** Seconds per measured run (BENCH_SECONDS; 1 in quick mode). */
  seconds: number;
  /** BENCH_QUICK=1 or `npm run bench -- --quick`: small estates, short runs, for a smoke test. */
  quick: boolean;
  /** Progress, to stderr; not part of the results. */
  log(line: string): void;
  /** Adds a note (a caveat, a goal missed) printed under the bench's results. */
  note(line: string): void;
}

export interface Bench {
  name: string;
  summary: string;
  goals: string[];
  perStore: boolean;
  run(ctx: BenchContext): Promise<string>;
}

/** Whether a value read from a module is a Bench (the registry's test). */
export function isBench(x: unknown): x is Bench {
  const b = x as Bench;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.name === 'string' &&
    typeof b.summary === 'string' &&
    Array.isArray(b.goals) &&
    typeof b.perStore === 'boolean' &&
    typeof b.run === 'function'
  );
}

export const num = (name: string, fallback: number) => Number(process.env[name]) || fallback;
export const QUICK = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
export const SECONDS = num('BENCH_SECONDS', QUICK ? 1 : 5);

/** The administrative PostgreSQL URL (BULWARK_DB, or BENCH_DB as the older benches took it), or ''. */
export function postgresUrl(): string {
  const url = process.env.BULWARK_DB || process.env.BENCH_DB || '';
  return isPostgresUrl(url) ? url : '';
}

// --------------------------------------------------------------------------
// Databases

export interface BenchDb {
  kind: StoreKind;
  label: string;
  /** BULWARK_DB for the server and openStore(). */
  target: string;
  /** A folder of its own (the SQLite file, the server's data dir). */
  dir: string;
  drop(): Promise<void>;
}

const live = new Set<() => Promise<void>>();
/** Drops what is still open (databases, servers): on Ctrl-C too. */
export async function cleanupAll(): Promise<void> {
  for (const f of [...live].reverse()) await f().catch(() => {});
  live.clear();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

async function admin<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** A new, empty database of this bench's own. */
export async function createDb(kind: StoreKind, tag: string): Promise<BenchDb> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bulwark-bench-${tag}-`));
  if (kind === 'sqlite') {
    const drop = async () => {
      live.delete(drop);
      fs.rmSync(dir, { recursive: true, force: true });
    };
    live.add(drop);
    return { kind, label: 'SQLite', target: path.join(dir, 'bench.db'), dir, drop };
  }
  const adminUrl = postgresUrl();
  if (!adminUrl) throw new Error('PostgreSQL needs BULWARK_DB=postgres://…');
  const name = `bulwark_bench_${tag.replace(/\W/g, '_')}_${process.pid}_${Date.now().toString(36)}`;
  await admin(adminUrl, (c) => c.query(`create database ${name}`));
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const drop = async () => {
    live.delete(drop);
    fs.rmSync(dir, { recursive: true, force: true });
    await admin(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`)).catch((e) =>
      process.stderr.write(`could not drop database ${name}: ${(e as Error).message}\n`),
    );
  };
  live.add(drop);
  return { kind, label: 'PostgreSQL', target: u.toString(), dir, drop };
}

// --------------------------------------------------------------------------
// The server

export interface Server {
  base: string;
  pid: number;
  child: ChildProcess;
  /** From the spawn to the first 200 of /readyz. */
  readyMs: number;
  /** The server process's resident memory now and its peak, from /proc (null elsewhere). */
  memory(): { rssMb: number; peakMb: number } | null;
  stop(): Promise<void>;
}

const randomPort = () => 30000 + Math.floor(Math.random() * 20000);

/**
 * The compiled server (as `npm start` runs it) on `db`; resolves when /readyz
 * answers 200. The admin password is PASSWORD when the database is new.
 */
export async function startServer(
  db: BenchDb,
  opts: { env?: Record<string, string>; nodeArgs?: string[]; readyWithinS?: number } = {},
): Promise<Server> {
  const command = compiledServer(opts.nodeArgs ?? process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []);
  const port = randomPort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, command, {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      BULWARK_DB: db.target,
      BULWARK_DATA_DIR: db.dir,
      BULWARK_ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`the server exited (code ${code}, signal ${signal})\n`);
  });
  const stop = async () => {
    live.delete(stop);
    if (child.exitCode !== null || child.signalCode !== null) return;
    stopping = true;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  live.add(stop);
  const deadline = started + (opts.readyWithinS ?? 120) * 1000;
  for (;;) {
    if (child.exitCode !== null) throw new Error('the server exited while starting');
    try {
      if ((await get(`${base}/readyz`)).status === 200) break;
    } catch {}
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`the server did not become ready within ${opts.readyWithinS ?? 120} s`);
    }
    await sleep(20);
  }
  const readyMs = performance.now() - started;
  return { base, pid: child.pid as number, child, readyMs, memory: () => processMemory(child.pid as number), stop };
}

export function processMemory(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --------------------------------------------------------------------------
// Single requests: one keep-alive connection

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export interface Reply {
  status: number;
  body: string;
  ms: number;
}

export function request(
  method: string,
  url: string,
  opts: { token?: string; body?: string; type?: string; agent?: http.Agent | false } = {},
): Promise<Reply> {
  const payload = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers.authtoken = opts.token;
  if (payload) {
    headers['content-type'] = opts.type ?? 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: opts.agent ?? agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - t0,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export const get = (url: string, token?: string) => request('GET', url, { token });
export const postJson = (url: string, body: unknown, token?: string) =>
  request('POST', url, { token, body: JSON.stringify(body) });

/** A CommServe login (JSON, base64 password); the Authtoken value. */
export async function login(base: string, username = 'admin', password = PASSWORD): Promise<string> {
  const r = await postJson(`${base}${API}/Login`, {
    mode: 4,
    username,
    password: Buffer.from(password).toString('base64'),
  });
  const token = r.status === 200 ? (JSON.parse(r.body) as { token?: string }).token : undefined;
  if (!token) throw new Error(`login of ${username} failed: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return token;
}

// --------------------------------------------------------------------------
// Throughput against bare, interleaved

export interface Case {
  name: string;
  /** Path under the server's base. */
  url: string;
  method?: 'GET' | 'POST';
  token?: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface CaseResult {
  name: string;
  /** Mean req/s over the rounds. */
  rps: number;
  /** rps / bare's rps (bare GET /healthz, measured in the same rounds). */
  ratio: number;
  rounds: number[];
  /** The worst round's p99 in ms. */
  p99: number;
  failed: number;
}

export const BARE: Case = { name: 'bare GET /healthz', url: '/healthz' };

async function cannon(base: string, c: Case, connections: number, seconds: number) {
  const r = await autocannon({
    url: `${base}${c.url}`,
    method: c.method ?? (c.body ? 'POST' : 'GET'),
    headers: {
      accept: 'application/json',
      ...(c.token ? { authtoken: c.token } : {}),
      ...(c.body ? { 'content-type': 'application/json' } : {}),
      ...c.headers,
    },
    body: c.body,
    connections,
    duration: seconds,
    timeout: 30,
  });
  // Served after what the run left in flight, so it is not counted in the next case's run.
  await get(`${base}/healthz`);
  // requests.average is over whole seconds' samples: the total over the run's time is right for short runs too.
  return { rps: r.requests.total / r.duration, p99: r.latency.p99, failed: r.non2xx + r.errors + r.timeouts };
}

/**
 * Each case and bare GET /healthz in turn, `rounds` times (after a warm-up
 * of each, BENCH_WARMUP seconds, 3 by default), on `connections` connections: the mean req/s of each and
 * its ratio to bare. Bare is added first when `cases` lacks it.
 */
export async function compare(
  base: string,
  cases: Case[],
  opts: { connections: number; seconds: number; rounds?: number; log?: (l: string) => void },
): Promise<CaseResult[]> {
  const all = cases.some((c) => c.url === '/healthz') ? cases : [BARE, ...cases];
  const rounds = opts.rounds ?? 2;
  // A route that runs more code than bare needs longer before V8 has optimised
  // it: with 1 s, the first case measured on a new server read 47-59 % where
  // later rounds read 72-83 % (bench/file-devices.ts, 2026-12-06); 3 s evens them.
  const warmup = Number(process.env.BENCH_WARMUP) || 3;
  for (const c of all) await cannon(base, c, opts.connections, warmup);
  const seen = new Map<string, Array<{ rps: number; p99: number; failed: number }>>();
  for (let round = 0; round < rounds; round++) {
    for (const c of all) {
      const r = await cannon(base, c, opts.connections, opts.seconds);
      seen.set(c.name, [...(seen.get(c.name) ?? []), r]);
      opts.log?.(`round ${round + 1}: ${c.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms`);
    }
  }
  const mean = (name: string) => {
    const rs = seen.get(name) ?? [];
    return rs.reduce((s, r) => s + r.rps, 0) / rs.length;
  };
  const bare = mean((all.find((c) => c.url === '/healthz') as Case).name);
  return all.map((c) => {
    const rs = seen.get(c.name) ?? [];
    return {
      name: c.name,
      rps: mean(c.name),
      ratio: mean(c.name) / bare,
      rounds: rs.map((r) => Math.round(r.rps)),
      p99: Math.max(...rs.map((r) => r.p99)),
      failed: rs.reduce((s, r) => s + r.failed, 0),
    };
  });
}

/** The rows of compare() as a Markdown table. */
export function compareTable(results: CaseResult[], connections: number): string {
  return table(
    ['case', `req/s (${connections} conn)`, 'vs bare', 'p99 ms', 'rounds'],
    results.map((r) => [
      r.name + (r.failed ? ` (${r.failed} failed)` : ''),
      r.rps.toFixed(0),
      pct(r.ratio),
      String(r.p99),
      r.rounds.join(', '),
    ]),
  );
}

/** `n` requests at a time, each connection one request after another, for `seconds`: latency percentiles. */
export async function latency(
  base: string,
  c: Case,
  opts: { connections: number; seconds: number },
): Promise<{ n: number; p50: number; p99: number; max: number; failed: number }> {
  const pool = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
  const times: number[] = [];
  let failed = 0;
  const one = () =>
    request(c.method ?? 'GET', `${base}${c.url}`, { token: c.token, body: c.body, agent: pool }).then((r) => {
      if (r.status !== 200) failed++;
      return r.ms;
    });
  for (let i = 0; i < 50; i++) await one(); // warm-up
  const end = performance.now() + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      while (performance.now() < end) times.push(await one());
    }),
  );
  pool.destroy();
  times.sort((a, b) => a - b);
  return {
    n: times.length,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times.at(-1) ?? 0,
    failed,
  };
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

// --------------------------------------------------------------------------
// In-process memory

/** The heap after a full collection, in MiB (gc exposed through V8's flags, so no --expose-gc is needed). */
export function heapMb(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

// --------------------------------------------------------------------------
// Reporting

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const pct = (ratio: number) => `${(ratio * 100).toFixed(0)} %`;
export const ms = (t: number) => (t < 10 ? t.toFixed(2) : t < 100 ? t.toFixed(1) : t.toFixed(0));
export const secs = (t: number) => `${(t / 1000).toFixed(1)} s`;
export const mark = (ok: boolean) => (ok ? 'met' : '**not met**');

/** The machine, for RESULTS.md. */
export function machine(): string {
  const cpus = os.cpus();
  const loads = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  return (
    `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ` +
    `node ${process.version}, ${os.type()} ${os.release()} (${os.arch()}); load average at the start ${loads}`
  );
}

export function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

/** Whether this module is the one node was started with (a bench run alone). */
export function isMain(url: string): boolean {
  return !!process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === url;
}

/** Runs one bench on its own (`npx tsx bench/x.ts`): on each store it runs on; prints its Markdown. */
export async function runAlone(bench: Bench): Promise<void> {
  const stores: StoreKind[] = bench.perStore && postgresUrl() ? ['sqlite', 'postgres'] : ['sqlite'];
  try {
    for (const store of stores) {
      const notes: string[] = [];
      const out = await bench.run({
        store,
        seconds: SECONDS,
        quick: QUICK,
        log: (l) => process.stderr.write(`  ${l}\n`),
        note: (l) => notes.push(l),
      });
      process.stdout.write(`\n## ${bench.name}${bench.perStore ? `, ${store}` : ''}\n\n${out}\n`);
      for (const n of notes) process.stdout.write(`\nnote: ${n}\n`);
    }
  } finally {
    await cleanupAll();
  }
}
