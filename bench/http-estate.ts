// Issue 3 over HTTP, on a database holding the whole estate (bench/estate.ts:
// 1.06 M entities, 100 k users, 10 k groups, 1 M associations at the default
// size), in one run on one server process so the ratios mean something on a
// shared, noisy machine:
//   npx tsx bench/http-estate.ts                         (SQLite in a temporary folder)
//   BENCH_DB=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/http-estate.ts
//       (PostgreSQL: BENCH_DB is an administrative URL; the bench creates its own
//        database beside it and drops it at the end, failure or not)
// Knobs: BENCH_COMPANIES=1000 (the estate's size: 1 company = 1060 entities,
// 100 users, 10 groups, 1000 associations), BENCH_SECONDS=5 (per throughput
// run), BENCH_ROUNDS=2 (throughput runs per route, interleaved),
// BENCH_CONNECTIONS=16, BENCH_LATENCY_SECONDS=3 (one connection, one request at
// a time), BENCH_ASSOCIATIONS=10000 (the big POST Security), BENCH_CHANGES=20
// (one-association changes timed for propagation), BENCH_INSERT_ROWS (rows per
// INSERT while loading; by default as many as the bound-parameter limit allows),
// BENCH_NODE_ARGS (extra node flags for the server, e.g. "--cpu-prof
// --cpu-prof-dir=/tmp/prof" for a profile written when it stops).
//
// Prints one table for the database it ran on, saves it to
// .bench/http-estate-<dialect>.json, and, when the other database's file is
// there from an earlier run of the same size, a table of both side by side.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { isPostgresUrl } from '../src/config.js';
import { hashSecret } from '../src/crypto/passwords.js';
import { bootstrap } from '../src/store/bootstrap.js';
import { openStore } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import {
  ASSOCIATIONS_PER_COMPANY,
  benchTenant,
  CLIENTS,
  countRows,
  ENTITIES_PER_COMPANY,
  ids,
  loadEstate,
} from './estate.js';
import { compiledServer } from './server.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PASSWORD = 'Bench-Passw0rd!';
const num = (name: string, fallback: number) => Number(process.env[name]) || fallback;
const COMPANIES = num('BENCH_COMPANIES', 1000);
const SECONDS = num('BENCH_SECONDS', 5);
const ROUNDS = num('BENCH_ROUNDS', 2);
const CONNECTIONS = num('BENCH_CONNECTIONS', 16);
const LATENCY_SECONDS = num('BENCH_LATENCY_SECONDS', 3);
const BIG_POST = num('BENCH_ASSOCIATIONS', 10_000);
const CHANGES = num('BENCH_CHANGES', 20);
const API = '/commandcenter/api';

const adminUrl = process.env.BENCH_DB ?? '';
const dialect: 'sqlite' | 'postgres' = adminUrl ? 'postgres' : 'sqlite';
if (adminUrl && !isPostgresUrl(adminUrl)) throw new Error('BENCH_DB must be a postgres:// URL');
const label = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-estate-'));
const pgName = `bulwark_bench_${process.pid}_${Date.now().toString(36)}`;
let dbTarget = path.join(dir, 'bench.db');
let pgCreated = false;
let child: ChildProcess | null = null;

const say = (line = '') => process.stdout.write(`${line}\n`);
const ms = (t: number) => (t < 10 ? t.toFixed(2) : t < 100 ? t.toFixed(1) : t.toFixed(0));
const secs = (t: number) => `${(t / 1000).toFixed(1)} s`;

// --------------------------------------------------------------------------
// Cleanup, also on Ctrl-C

let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child?.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (pgCreated) {
    const admin = new pg.Client({ connectionString: adminUrl });
    try {
      await admin.connect();
      await admin.query(`drop database if exists ${pgName} with (force)`);
      say(`dropped database ${pgName}`);
    } catch (e) {
      process.stderr.write(`could not drop database ${pgName}: ${(e as Error).message}\n`);
    } finally {
      await admin.end().catch(() => {});
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

// --------------------------------------------------------------------------
// HTTP: one keep-alive connection for single requests and latency runs

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let base = '';

interface Reply {
  status: number;
  body: string;
  ms: number;
}

function call(method: string, url: string, token?: string, body?: unknown): Promise<Reply> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authtoken = token;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${url}`, { method, headers, agent }, (res) => {
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

const json = <T>(r: Reply): T => JSON.parse(r.body) as T;

async function login(username: string): Promise<string> {
  const r = await call('POST', `${API}/Login`, undefined, {
    mode: 4,
    username,
    password: Buffer.from(PASSWORD).toString('base64'),
  });
  const token = r.status === 200 ? json<{ token?: string }>(r).token : undefined;
  if (!token) throw new Error(`login of ${username} failed: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return token;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** One request at a time for `seconds`: the latency of a request that never queues. */
async function latency(url: string, token?: string) {
  for (let i = 0; i < 100; i++) await call('GET', url, token);
  const times: number[] = [];
  let bad = 0;
  const end = performance.now() + LATENCY_SECONDS * 1000;
  while (performance.now() < end) {
    const r = await call('GET', url, token);
    if (r.status !== 200) bad++;
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  return {
    n: times.length,
    bad,
    p50: percentile(times, 50),
    p90: percentile(times, 90),
    p99: percentile(times, 99),
    max: times.at(-1) as number,
  };
}

async function throughput(url: string, token: string | undefined, seconds: number) {
  const r = await autocannon({
    url: `${base}${url}`,
    headers: token ? { authtoken: token } : {},
    connections: CONNECTIONS,
    duration: seconds,
  });
  return { rps: r.requests.average, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts };
}

function serverMemory(): { rssMb: number; peakMb: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${child?.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

// --------------------------------------------------------------------------

interface CaseResult {
  name: string;
  rps: number;
  rounds: number[];
  loadP99: number;
  p50: number;
  p90: number;
  p99: number;
  /** One-connection requests timed. */
  n: number;
  note: string;
}

interface Result {
  dialect: string;
  companies: number;
  at: string;
  counts: Record<string, number>;
  loadMs: number;
  /** Milliseconds spent in each table's INSERTs. */
  insertMs: Record<string, number>;
  readyMs: number;
  firstCheckMs: number;
  secondCheckMs: number;
  cases: CaseResult[];
  bigPost: { associations: number; applied: number; ms: number; firstAfterMs: number };
  propagation: { changes: number; postMedian: number; firstMedian: number; firstMax: number; steadyMedian: number };
  serverMemory: { rssMb: number; peakMb: number } | null;
  notes: string[];
}

async function main(): Promise<Result> {
  const notes: string[] = [];
  const tenant = benchTenant();
  if (COMPANIES < 2) throw new Error('BENCH_COMPANIES must be at least 2');

  // -- the database -------------------------------------------------------
  if (dialect === 'postgres') {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`create database ${pgName}`);
      pgCreated = true;
    } finally {
      await admin.end();
    }
    const u = new URL(adminUrl);
    u.pathname = `/${pgName}`;
    dbTarget = u.toString();
  }
  say(
    `${label}: generating and loading ${COMPANIES} companies (${COMPANIES * ENTITIES_PER_COMPANY} entities, ` +
      `${COMPANIES * 100} users, ${COMPANIES * 10} groups, ${COMPANIES * ASSOCIATIONS_PER_COMPANY} associations)` +
      `${dialect === 'postgres' ? ` into database ${pgName}` : ''}`,
  );
  const t0 = performance.now();
  let peakRss = process.memoryUsage.rss();
  const store = openStore(dbTarget);
  let counts: Record<string, number>;
  let spent: Record<string, number>;
  try {
    await migrate(store);
    await bootstrap(store, PASSWORD, new Date());
    const passwordHash = await hashSecret(PASSWORD);
    spent = await loadEstate(store, {
      companies: COMPANIES,
      passwordHash,
      rowsPerInsert: num('BENCH_INSERT_ROWS', Number.POSITIVE_INFINITY),
      onProgress: (done) => {
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
        process.stderr.write(`\r  ${done}/${COMPANIES} companies, ${secs(performance.now() - t0)}`);
      },
    });
    process.stderr.write('\n');
    counts = await countRows(store);
  } finally {
    await store.close();
  }
  const loadMs = performance.now() - t0;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  say(
    `  loaded ${total} rows in ${secs(loadMs)} (${Math.round(total / (loadMs / 1000))} rows/s), bench peak RSS ${Math.round(peakRss / 2 ** 20)} MB`,
  );
  const list = (o: Record<string, number>, f: (n: number) => string) =>
    Object.entries(o)
      .map(([t, n]) => `${t} ${f(n)}`)
      .join(', ');
  say(`  rows: ${list(counts, String)}`);
  say(`  INSERT time: ${list(spent, secs)}`);
  if (dialect === 'sqlite') {
    const size = fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
    say(`  SQLite file: ${Math.round(size / 2 ** 20)} MB`);
  }

  // -- the server ---------------------------------------------------------
  const port = 30000 + Math.floor(Math.random() * 20000);
  base = `http://127.0.0.1:${port}`;
  // Compiled before the clock starts: the start time is the server's, not tsc's.
  const command = compiledServer(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []);
  const started = performance.now();
  child = spawn(process.execPath, command, {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      BULWARK_DB: dbTarget,
      BULWARK_DATA_DIR: dir,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.once('exit', (code, signal) => {
    if (!cleaned) process.stderr.write(`the server exited (code ${code}, signal ${signal})\n`);
  });
  let ready = false;
  for (let i = 0; i < 1200 && !ready; i++) {
    if (child.exitCode !== null) throw new Error('the server exited while starting');
    try {
      ready = (await call('GET', '/readyz')).status === 200;
    } catch {}
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) throw new Error('the server did not become ready within 2 minutes');
  const readyMs = performance.now() - started;
  say(`server ready in ${secs(readyMs)} (${dialect === 'sqlite' ? 'SQLite file' : pgName}, port ${port})`);

  const adminToken = await login('admin');
  const tenantToken = await login(tenant.loginName);
  const explainPath = (userId: number, entityType: number, entityId: number) =>
    `${API}/Security/Explain?userId=${userId}&entityType=${entityType}&entityId=${entityId}&permission=View`;
  const tenantExplain = explainPath(tenant.userId, 7, tenant.subclientId);

  // The first permission check after the start reads the whole estate into the view.
  const first = await call('GET', tenantExplain, tenantToken);
  const second = await call('GET', tenantExplain, tenantToken);
  say(
    `first permission check after start: ${ms(first.ms)} ms (loads the permission view); the next: ${ms(second.ms)} ms`,
  );
  const mem0 = serverMemory();
  if (mem0) say(`server memory with the view loaded: RSS ${mem0.rssMb} MB`);

  // -- what the bench relies on -------------------------------------------
  if (first.status !== 200) throw new Error(`Explain as the tenant: HTTP ${first.status} ${first.body.slice(0, 300)}`);
  const explained = json<{ allowed: boolean; grants: Array<{ entity: { entityType: number; entityId: number } }> }>(
    first,
  );
  const via = explained.grants.map((g) => `${g.entity.entityType}:${g.entity.entityId}`).join(', ');
  say(
    `${tenant.loginName} (user ${tenant.userId}) View on subclient ${tenant.subclientId}: ` +
      `allowed=${explained.allowed}, granted on ${via || 'nothing'} (client group 28:${tenant.clientGroupId} expected)`,
  );
  if (!explained.allowed || via !== `28:${tenant.clientGroupId}`) {
    notes.push('the tenant is not granted View through its client group as the estate says: check bench/estate.ts');
  }
  const tenantClient = await call('GET', `${API}/Client/${tenant.clientId}`, tenantToken);
  const outside = await call('GET', `${API}/Client/${tenant.otherClientId}`, tenantToken);
  const adminClient = await call('GET', `${API}/Client/${ids.client(COMPANIES, CLIENTS - 1)}`, adminToken);
  // CommServe refusals are HTTP 200 with an errorCode: read the body.
  const outcome = (r: Reply) => {
    if (r.status !== 200) return `HTTP ${r.status}`;
    const body = json<{ errorCode?: number; clientProperties?: unknown[] }>(r);
    return body.clientProperties ? 'the client' : `errorCode ${body.errorCode ?? '?'}`;
  };
  say(
    `GET Client/${tenant.clientId} (in the tenant's client group) as the tenant: ${outcome(tenantClient)}; ` +
      `GET Client/${tenant.otherClientId} (no association reaches it): ${outcome(outside)}; ` +
      `as admin, GET Client/${ids.client(COMPANIES, CLIENTS - 1)}: ${outcome(adminClient)}`,
  );
  if (outcome(tenantClient) !== 'the client' || outcome(adminClient) !== 'the client') {
    notes.push('GET Client/{id} did not answer with the client where it should: its numbers measure a refusal');
  }
  if (outcome(outside) === 'the client') {
    notes.push(
      `GET Client/{id} answered with a client of the tenant's company that no association reaches: ` +
        'it does not check View through the association engine',
    );
  }

  // -- throughput and latency ---------------------------------------------
  const cases: Array<{ name: string; url: string; token?: string; note?: string }> = [
    { name: 'bare GET /healthz', url: '/healthz' },
    { name: 'GET WhoAmI (tenant; session only)', url: `${API}/WhoAmI`, token: tenantToken },
    {
      name: 'GET Client/{id} (tenant, via client group)',
      url: `${API}/Client/${tenant.clientId}`,
      token: tenantToken,
    },
    { name: 'GET Client/{id} (admin)', url: `${API}/Client/${ids.client(COMPANIES, CLIENTS - 1)}`, token: adminToken },
    { name: 'GET Security/Explain subclient (tenant, self)', url: tenantExplain, token: tenantToken },
    { name: 'GET Security/Explain subclient (admin)', url: tenantExplain, token: adminToken },
  ];
  const runnable = [];
  for (const c of cases) {
    const r = await call('GET', c.url, c.token);
    if (r.status === 200) runnable.push(c);
    else notes.push(`${c.name}: HTTP ${r.status} ${r.body.slice(0, 200)}; left out`);
  }
  say(`\nthroughput: ${CONNECTIONS} connections, ${SECONDS} s a run, ${ROUNDS} interleaved rounds`);
  for (const c of runnable) await throughput(c.url, c.token, 1); // warm-up
  const rounds = new Map<string, Array<{ rps: number; p99: number; bad: number }>>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of runnable) {
      const r = await throughput(c.url, c.token, SECONDS);
      rounds.set(c.name, [...(rounds.get(c.name) ?? []), r]);
      process.stderr.write(`  round ${round + 1}: ${c.name}: ${r.rps.toFixed(0)} req/s\n`);
    }
  }
  say(`latency: one connection, one request at a time, ${LATENCY_SECONDS} s a route`);
  const results: CaseResult[] = [];
  for (const c of runnable) {
    const lat = await latency(c.url, c.token);
    const rs = rounds.get(c.name) ?? [];
    const bad = rs.reduce((s, r) => s + r.bad, 0) + lat.bad;
    results.push({
      name: c.name,
      rps: rs.reduce((s, r) => s + r.rps, 0) / rs.length,
      rounds: rs.map((r) => Math.round(r.rps)),
      loadP99: Math.max(...rs.map((r) => r.p99)),
      p50: lat.p50,
      p90: lat.p90,
      p99: lat.p99,
      n: lat.n,
      note: bad ? `${bad} failed` : '',
    });
  }

  // -- a 10 k-association POST Security -----------------------------------
  const created = await call('POST', `${API}/User`, adminToken, {
    users: [{ userEntity: { userName: 'RSmith' }, password: Buffer.from(PASSWORD).toString('base64') }],
  });
  const rsmith = json<{ response: Array<{ entity?: { userId: number } }> }>(created).response[0]?.entity?.userId;
  if (!rsmith) throw new Error(`POST User RSmith: HTTP ${created.status} ${created.body.slice(0, 300)}`);
  const entities: number[] = [];
  // Subclients of companies 2, 3, … (then 1): a CommCell user may be granted on any company's.
  const order = [...Array.from({ length: COMPANIES - 1 }, (_, k) => k + 2), 1];
  outer: for (const c of order) {
    for (let j = 0; j < CLIENTS; j++) {
      for (let s = 0; s < 3; s++) {
        entities.push(ids.subclient(c, j, s));
        if (entities.length === BIG_POST) break outer;
      }
    }
  }
  const big = await call('POST', `${API}/Security`, adminToken, {
    entityAssociated: { entity: entities.map((entityId) => ({ entityType: 7, _type_: 150, entityId })) },
    securityAssociations: {
      associationsOperationType: 'ADD',
      associations: [{ userOrGroup: [{ userName: 'RSmith' }], properties: { role: { roleName: 'View' } } }],
    },
  });
  const applied =
    big.status === 200
      ? json<{ response: Array<{ errorCode: number }> }>(big).response.filter((r) => r.errorCode === 0).length
      : 0;
  if (applied !== entities.length) {
    notes.push(
      `POST Security with ${entities.length}: HTTP ${big.status}, ${applied} applied: ${big.body.slice(0, 200)}`,
    );
  }
  const afterBig = await call('GET', explainPath(rsmith, 7, entities[0] as number), adminToken);
  say(
    `\nPOST Security with ${entities.length} associations: ${ms(big.ms)} ms (${applied} applied); ` +
      `the first check after it: ${ms(afterBig.ms)} ms`,
  );

  // -- propagation: one association changed, then the first check ---------
  const target = ids.client(COMPANIES, 0);
  const targetExplain = explainPath(rsmith, 3, target);
  const posts: number[] = [];
  const firsts: number[] = [];
  const steady: number[] = [];
  let wrong = 0;
  for (let i = 0; i < CHANGES; i++) {
    const op = i % 2 === 0 ? 'ADD' : 'DELETE';
    const r = await call('POST', `${API}/Security`, adminToken, {
      entityAssociated: { entity: [{ entityType: 3, _type_: 150, entityId: target }] },
      securityAssociations: {
        associationsOperationType: op,
        associations: [{ userOrGroup: [{ userName: 'RSmith' }], properties: { role: { roleName: 'View' } } }],
      },
    });
    if (r.status !== 200 || json<{ response: Array<{ errorCode: number }> }>(r).response[0]?.errorCode !== 0) {
      throw new Error(`POST Security ${op}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    }
    posts.push(r.ms);
    const f = await call('GET', targetExplain, adminToken);
    firsts.push(f.ms);
    if (json<{ allowed: boolean }>(f).allowed !== (op === 'ADD')) wrong++;
    steady.push((await call('GET', targetExplain, adminToken)).ms);
  }
  if (wrong) notes.push(`${wrong} of ${CHANGES} checks after a change did not see it`);
  say(
    `${CHANGES} one-association changes (ADD/DELETE alternately): POST median ${ms(median(posts))} ms; ` +
      `the first check after each: median ${ms(median(firsts))} ms, max ${ms(Math.max(...firsts))} ms; ` +
      `the next check: median ${ms(median(steady))} ms`,
  );

  return {
    dialect: label,
    companies: COMPANIES,
    at: new Date().toISOString(),
    counts,
    loadMs,
    insertMs: spent,
    readyMs,
    firstCheckMs: first.ms,
    secondCheckMs: second.ms,
    cases: results,
    bigPost: { associations: entities.length, applied, ms: big.ms, firstAfterMs: afterBig.ms },
    propagation: {
      changes: CHANGES,
      postMedian: median(posts),
      firstMedian: median(firsts),
      firstMax: Math.max(...firsts),
      steadyMedian: median(steady),
    },
    serverMemory: serverMemory(),
    notes,
  };
}

// --------------------------------------------------------------------------
// Reports

function rowsOf(r: Result): Array<[string, string]> {
  const bare = r.cases[0]?.name.startsWith('bare') ? r.cases[0].rps : Number.NaN;
  const c = r.counts;
  const out: Array<[string, string]> = [
    [
      'estate loaded (rows)',
      `${c.entities} entities, ${c.users} users, ${c.user_groups} groups, ${c.security_associations} associations, ` +
        `${c.user_group_members} memberships, ${c.client_group_clients} client-group links`,
    ],
    ['migrate + generate + load', secs(r.loadMs)],
    ['server start to /readyz', secs(r.readyMs)],
    [
      'first permission check after start (loads the view)',
      `${ms(r.firstCheckMs)} ms (next: ${ms(r.secondCheckMs)} ms)`,
    ],
  ];
  for (const k of r.cases) {
    out.push([
      `${k.name}: req/s (${CONNECTIONS} conn)`,
      `${k.rps.toFixed(0)} (${((k.rps / bare) * 100).toFixed(0)}% of bare; rounds ${k.rounds.join(', ')})${k.note ? ` ${k.note}` : ''}`,
    ]);
    out.push([
      `${k.name}: latency p50 / p90 / p99 (1 conn)`,
      `${ms(k.p50)} / ${ms(k.p90)} / ${ms(k.p99)} ms over ${k.n} requests (p99 under load ${k.loadP99} ms)`,
    ]);
  }
  out.push(
    [
      `POST Security, ${r.bigPost.associations} associations`,
      `${ms(r.bigPost.ms)} ms (${r.bigPost.applied} applied; first check after: ${ms(r.bigPost.firstAfterMs)} ms)`,
    ],
    [`one-association POST Security (median of ${r.propagation.changes})`, `${ms(r.propagation.postMedian)} ms`],
    [
      'first check after a change: median / max',
      `${ms(r.propagation.firstMedian)} / ${ms(r.propagation.firstMax)} ms (steady: ${ms(r.propagation.steadyMedian)} ms)`,
    ],
    [
      'server memory at the end: RSS / peak',
      r.serverMemory ? `${r.serverMemory.rssMb} / ${r.serverMemory.peakMb} MB` : 'unknown',
    ],
  );
  return out;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function targets(r: Result): string[] {
  const byName = new Map(r.cases.map((k) => [k.name, k]));
  const bare = byName.get('bare GET /healthz')?.rps ?? Number.NaN;
  const check = byName.get('GET Security/Explain subclient (tenant, self)');
  const read = byName.get('GET Client/{id} (tenant, via client group)');
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const out = [
    `- ${r.bigPost.associations}-association POST Security < 1 s (the target is for 10 000): ${mark(r.bigPost.ms < 1000)} (${ms(r.bigPost.ms)} ms)`,
  ];
  if (check) out.push(`- HTTP check p99 < 2 ms (Explain, 1 connection): ${mark(check.p99 < 2)} (${ms(check.p99)} ms)`);
  for (const k of [read, check]) {
    if (k)
      out.push(`- ${k.name} ≥ 60 % of bare: ${mark(k.rps / bare >= 0.6)} (${((k.rps / bare) * 100).toFixed(0)} %)`);
  }
  return out;
}

let result: Result | null = null;
try {
  result = await main();
} finally {
  await cleanup();
}
if (result) {
  const r = result;
  say(`\n## ${r.dialect}, ${r.companies} companies (${os.cpus().length} cores, ${new Date(r.at).toISOString()})\n`);
  say(table(['what', r.dialect], rowsOf(r)));
  say(`\nissue 3's targets on ${r.dialect}:`);
  for (const t of targets(r)) say(t);
  for (const n of r.notes) say(`note: ${n}`);
  const saved = path.join(ROOT, '.bench');
  fs.mkdirSync(saved, { recursive: true });
  fs.writeFileSync(path.join(saved, `http-estate-${dialect}.json`), `${JSON.stringify(r, null, 2)}\n`);
  const otherFile = path.join(saved, `http-estate-${dialect === 'sqlite' ? 'postgres' : 'sqlite'}.json`);
  if (fs.existsSync(otherFile)) {
    const other = JSON.parse(fs.readFileSync(otherFile, 'utf8')) as Result;
    if (other.companies === r.companies) {
      const [s, p] = dialect === 'sqlite' ? [r, other] : [other, r];
      const a = rowsOf(s);
      const b = new Map(rowsOf(p));
      say(`\n## both databases, ${r.companies} companies (SQLite ${s.at}, PostgreSQL ${p.at})\n`);
      say(
        table(
          ['what', 'SQLite', 'PostgreSQL'],
          a.map(([what, v]) => [what, v, b.get(what) ?? '']),
        ),
      );
    }
  }
}
