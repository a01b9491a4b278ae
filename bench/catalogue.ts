// Issue 11's performance: the backup catalogue on the compiled server, in one
// run on one server process (traffic to 127.0.0.1 only), so the ratios mean
// something on a shared, noisy machine:
//   npx tsx bench/catalogue.ts                         (SQLite in a temporary folder)
//   BENCH_DB=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/catalogue.ts
//       (PostgreSQL: BENCH_DB is an administrative URL; the bench creates its own
//        database beside it and drops it at the end, failure or not)
// What it measures:
//   - import rate (files/s) through POST Catalogue/Import and through
//     `bulwark catalogue import FILE` (the compiled CLI, its start included;
//     the start alone, a one-file import, is given beside it);
//   - POST DoBrowse of a page (BENCH_PAGES, default 100 and 10000) of a folder
//     holding BENCH_BIG_FOLDER (100 000) files, and POST CreateTask (restore in
//     place of one of those files), each as a ratio to bare GET /healthz,
//     interleaved rounds in the same run.
// Knobs: BENCH_FILES=200000 (files per import run), BENCH_JOB_FILES=10000
// (files per job line), BENCH_BIG_FOLDER=100000, BENCH_SECONDS=4 (per run),
// BENCH_ROUNDS=2, BENCH_CONNECTIONS=1 (each run is followed by a bare
// request, which waits for what the run left queued).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { isPostgresUrl } from '../src/config.js';
import { compiledServer } from './server.js';

const PASSWORD = 'Bench-Passw0rd!';
const num = (name: string, fallback: number) => Number(process.env[name]) || fallback;
const FILES = num('BENCH_FILES', 200_000);
const JOB_FILES = num('BENCH_JOB_FILES', 10_000);
const BIG = num('BENCH_BIG_FOLDER', 100_000);
const SECONDS = num('BENCH_SECONDS', 4);
const ROUNDS = num('BENCH_ROUNDS', 2);
// One connection by default: a browse of the big folder takes most of a second, and requests
// still queued when a run ends would be served during the next route's run.
const CONNECTIONS = num('BENCH_CONNECTIONS', 1);
const PAGES = (process.env.BENCH_PAGES ?? '100,10000').split(',').map(Number).filter(Boolean);
const API = '/commandcenter/api';

const adminUrl = process.env.BENCH_DB ?? '';
const dialect: 'sqlite' | 'postgres' = adminUrl ? 'postgres' : 'sqlite';
if (adminUrl && !isPostgresUrl(adminUrl)) throw new Error('BENCH_DB must be a postgres:// URL');
const label = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-catalogue-'));
const pgName = `bulwark_bench_cat_${process.pid}_${Date.now().toString(36)}`;
let dbTarget = path.join(dir, 'bench.db');
let pgCreated = false;
let child: ChildProcess | null = null;
let base = '';

const say = (line = '') => process.stdout.write(`${line}\n`);
const rate = (files: number, ms: number) => Math.round(files / (ms / 1000));

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

async function call(method: string, url: string, token?: string, body?: string, type = 'application/json') {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authtoken = token;
  if (body !== undefined) headers['content-type'] = type;
  const t0 = performance.now();
  const res = await fetch(`${base}${url}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text, ms: performance.now() - t0 };
}

/** Job lines of `files` files in all, `perJob` a job, spread over folders of 1000 files. */
function jobLines(subclientId: number, files: number, perJob: number, top: string, startTime: number): string {
  const lines: string[] = [];
  for (let done = 0, job = 0; done < files; job++) {
    const n = Math.min(perJob, files - done);
    const list = [];
    for (let k = 0; k < n; k++) {
      const i = done + k;
      list.push({
        path: `/${top}/d${Math.floor(i / 1000)}/file-${i}.dat`,
        size: 1000 + i,
        modificationTime: 1_600_000_000 + i,
      });
    }
    const t = startTime + job * 100;
    lines.push(JSON.stringify({ subclientId, backupLevel: 'Full', startTime: t, endTime: t + 50, files: list }));
    done += n;
  }
  return `${lines.join('\n')}\n`;
}

async function httpImport(token: string, body: string, files: number): Promise<number> {
  const r = await call('POST', `${API}/Catalogue/Import`, token, body, 'application/x-ndjson');
  const reply = r.status === 200 ? (JSON.parse(r.body) as { files?: number; errors?: unknown[] }) : {};
  if (reply.files !== files) throw new Error(`POST Catalogue/Import: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return r.ms;
}

function cliImport(command: string[], file: string): number {
  const t0 = performance.now();
  execFileSync(process.execPath, [...command.slice(0, -1), 'catalogue', 'import', file], {
    env: { ...process.env, BULWARK_DB: dbTarget, BULWARK_DATA_DIR: dir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return performance.now() - t0;
}

async function throughput(c: Case) {
  const r = await autocannon({
    url: `${base}${c.url}`,
    method: c.body ? 'POST' : 'GET',
    headers: {
      accept: 'application/json',
      ...(c.token ? { authtoken: c.token } : {}),
      ...(c.body ? { 'content-type': 'application/json' } : {}),
    },
    body: c.body,
    connections: CONNECTIONS,
    duration: SECONDS,
    timeout: 30,
  });
  await call('GET', '/healthz'); // served after what the run left in flight
  // requests.average is of whole seconds' samples: the total over the run's time is right for short runs too.
  return { rps: r.requests.total / r.duration, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts };
}

interface Case {
  name: string;
  url: string;
  token?: string;
  body?: string;
}

async function main(): Promise<void> {
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
  const port = 30000 + Math.floor(Math.random() * 20000);
  base = `http://127.0.0.1:${port}`;
  const command = compiledServer();
  child = spawn(process.execPath, command, {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      BULWARK_DB: dbTarget,
      BULWARK_DATA_DIR: dir,
      BULWARK_ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let ready = false;
  for (let i = 0; i < 600 && !ready; i++) {
    if (child.exitCode !== null) throw new Error('the server exited while starting');
    try {
      ready = (await call('GET', '/readyz')).status === 200;
    } catch {}
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) throw new Error('the server did not become ready');

  const login = await call(
    'POST',
    `${API}/Login`,
    undefined,
    JSON.stringify({ mode: 4, username: 'admin', password: Buffer.from(PASSWORD).toString('base64') }),
  );
  const token = (JSON.parse(login.body) as { token?: string }).token;
  if (!token) throw new Error(`login failed: HTTP ${login.status} ${login.body.slice(0, 300)}`);

  // A client with its File System chain down to subclient "default".
  const client = { type: 'client', name: 'bench01', os: 'Linux' };
  const agent = { type: 'agent', name: 'File System', parent: { type: 'client', name: 'bench01' } };
  const instance = { type: 'instance', name: 'DefaultInstanceName', parent: agent };
  const backupSet = { type: 'backupSet', name: 'defaultBackupSet', parent: instance };
  const estate = [client, agent, instance, backupSet, { type: 'subclient', name: 'default', parent: backupSet }];
  const er = await call(
    'POST',
    `${API}/Entities/Import`,
    token,
    estate.map((l) => JSON.stringify(l)).join('\n'),
    'application/x-ndjson',
  );
  const subclientId = (JSON.parse(er.body) as { results?: Array<{ entityId: number }> }).results?.[4]?.entityId;
  if (!subclientId) throw new Error(`POST Entities/Import: HTTP ${er.status} ${er.body.slice(0, 300)}`);

  // -- import rate ----------------------------------------------------------
  const jobs = Math.ceil(FILES / JOB_FILES);
  say(`${label}: importing ${FILES} files in ${jobs} jobs of ${JOB_FILES} (folders of 1000 files), each way`);
  await httpImport(token, jobLines(subclientId, 1000, 1000, 'warm', 1_700_000_000), 1000); // warm-up
  const httpMs = await httpImport(token, jobLines(subclientId, FILES, JOB_FILES, 'http', 1_700_100_000), FILES);
  const cliFile = path.join(dir, 'catalogue.jsonl');
  fs.writeFileSync(cliFile, jobLines(subclientId, FILES, JOB_FILES, 'cli', 1_700_200_000));
  const oneFile = path.join(dir, 'one.jsonl');
  fs.writeFileSync(oneFile, jobLines(subclientId, 1, 1, 'one', 1_700_300_000));
  const cliStartMs = cliImport(command, oneFile);
  const cliMs = cliImport(command, cliFile);
  // The folder the browse reads: one job holding BIG files in /big.
  const bigLine = (() => {
    const list = [];
    for (let i = 0; i < BIG; i++)
      list.push({ path: `/big/file-${i}.dat`, size: i, modificationTime: 1_600_000_000 + i });
    return `${JSON.stringify({ subclientId, backupLevel: 'Full', startTime: 1_700_400_000, endTime: 1_700_400_050, files: list })}\n`;
  })();
  const bigMs = await httpImport(token, bigLine, BIG);

  // -- browse and restore against a bare route ------------------------------
  const browseBody = (pageSize: number) =>
    JSON.stringify({
      opType: 0,
      mode: { mode: 2 },
      paths: [{ path: '/big' }],
      options: { showDeletedFiles: false },
      entity: { subclientId },
      timeRange: { fromTime: 0, toTime: 0 },
      queries: [{ type: 0, queryId: 'dataQuery', dataParam: { paging: { pageSize, skipNode: 0, firstNode: 0 } } }],
    });
  const restoreBody = JSON.stringify({
    taskInfo: {
      associations: [{ subclientId, _type_: 7 }],
      task: { taskType: 1 },
      subTasks: [
        {
          subTaskOperation: 1,
          options: {
            restoreOptions: {
              destination: { inPlace: true },
              fileOption: { sourceItem: [`/big/file-${Math.floor(BIG / 2)}.dat`] },
            },
          },
        },
      ],
    },
  });
  const cases: Case[] = [
    { name: 'bare GET /healthz', url: '/healthz' },
    ...PAGES.map((n) => ({
      name: `POST DoBrowse, page of ${n} (folder of ${BIG})`,
      url: `${API}/DoBrowse`,
      token,
      body: browseBody(n),
    })),
    { name: 'POST CreateTask (restore in place, 1 path)', url: `${API}/CreateTask`, token, body: restoreBody },
  ];
  for (const c of cases.slice(1)) {
    const r = await call('POST', c.url, c.token, c.body);
    const j = JSON.parse(r.body) as {
      errorCode?: number;
      jobIds?: string[];
      browseResponses?: Array<{ browseResult?: { totalItemsFound: number; dataResultSet: unknown[] } }>;
    };
    const found = j.browseResponses?.[0]?.browseResult;
    say(
      `  ${c.name}: one request ${r.ms.toFixed(0)} ms, ` +
        (found ? `${found.dataResultSet.length} of ${found.totalItemsFound} items` : `jobIds ${j.jobIds}`),
    );
    if (r.status !== 200 || j.errorCode || (!found && !j.jobIds?.length) || (found && found.totalItemsFound !== BIG))
      throw new Error(`${c.name}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  }
  for (const c of cases) await throughput(c); // warm-up
  const rounds = new Map<string, Array<{ rps: number; p99: number; bad: number }>>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      const r = await throughput(c);
      rounds.set(c.name, [...(rounds.get(c.name) ?? []), r]);
      process.stderr.write(`  round ${round + 1}: ${c.name}: ${r.rps.toFixed(1)} req/s\n`);
    }
  }

  // -- report ----------------------------------------------------------------
  say(`\n## ${label} (${os.cpus().length} cores, ${new Date().toISOString()})\n`);
  say('| what | result |');
  say('| --- | --- |');
  say(
    `| POST Catalogue/Import, ${FILES} files in ${jobs} jobs | ${rate(FILES, httpMs)} files/s (${(httpMs / 1000).toFixed(2)} s) |`,
  );
  say(
    `| bulwark catalogue import FILE, ${FILES} files | ${rate(FILES, cliMs)} files/s with the process start ` +
      `(${(cliMs / 1000).toFixed(2)} s; a one-file import takes ${(cliStartMs / 1000).toFixed(2)} s: ` +
      `${rate(FILES, Math.max(1, cliMs - cliStartMs))} files/s without it) |`,
  );
  say(
    `| POST Catalogue/Import, one job of ${BIG} files in one folder | ${rate(BIG, bigMs)} files/s (${(bigMs / 1000).toFixed(2)} s) |`,
  );
  const mean = (name: string) => {
    const rs = rounds.get(name) ?? [];
    return rs.reduce((s, r) => s + r.rps, 0) / rs.length;
  };
  const bare = mean(cases[0]?.name as string);
  for (const c of cases) {
    const rs = rounds.get(c.name) ?? [];
    const bad = rs.reduce((s, r) => s + r.bad, 0);
    say(
      `| ${c.name}: req/s (${CONNECTIONS} conn) | ${mean(c.name).toFixed(1)} = ${((mean(c.name) / bare) * 100).toFixed(2)} % of bare ` +
        `(rounds ${rs.map((r) => r.rps.toFixed(1)).join(', ')}; p99 ${Math.max(...rs.map((r) => r.p99))} ms)${bad ? `; ${bad} failed` : ''} |`,
    );
  }
  say(
    `\ngoal: import >= 100 000 files/s on SQLite: ` +
      `${dialect === 'sqlite' ? (rate(FILES, httpMs) >= 100_000 ? 'met' : 'NOT met') : 'n/a (PostgreSQL)'} (HTTP ${rate(FILES, httpMs)} files/s)`,
  );
}

try {
  await main();
} finally {
  await cleanup();
}
