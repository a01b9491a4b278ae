// Issue 11's performance: the backup catalogue on the compiled server, in one
// run on one server process (traffic to 127.0.0.1 only), so the ratios mean
// something on a shared, noisy machine:
//   npm run bench -- catalogue     (or npx tsx bench/catalogue.ts; BULWARK_DB=postgres://…
//       adds PostgreSQL, in a database of its own created beside it and dropped at the end)
// What it measures:
//   - import rate (files/s) through POST Catalogue/Import and through
//     `bulwark catalogue import FILE` (the compiled CLI, its start included;
//     the start alone, a one-file import, is given beside it);
//   - POST DoBrowse of a page (BENCH_PAGES, default 100 and 10000) of a folder
//     holding BENCH_BIG_FOLDER (100 000) files, and POST CreateTask (restore in
//     place of one of those files), each as a ratio to bare GET /healthz,
//     interleaved rounds in the same run.
// Knobs: BENCH_FILES=200000 (files per import run), BENCH_JOB_FILES=10000
// (files per job line), BENCH_BIG_FOLDER=100000, BENCH_SECONDS (per run),
// BENCH_ROUNDS=2, BENCH_CONNECTIONS=1 (each run is followed by a bare
// request, which waits for what the run left queued).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  API,
  type Bench,
  type BenchDb,
  type Case,
  compare,
  createDb,
  isMain,
  login,
  mark,
  num,
  pct,
  request,
  runAlone,
  startServer,
  table,
} from './harness.js';
import { compiledServer } from './server.js';

const rate = (files: number, ms: number) => Math.round(files / (ms / 1000));
let base = '';

async function call(method: string, url: string, token?: string, body?: string, type = 'application/json') {
  return request(method, `${base}${url}`, { token, body, type });
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

function cliImport(db: BenchDb, command: string[], file: string): number {
  const t0 = performance.now();
  execFileSync(process.execPath, [...command.slice(0, -1), 'catalogue', 'import', file], {
    env: { ...process.env, BULWARK_DB: db.target, BULWARK_DATA_DIR: db.dir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return performance.now() - t0;
}

async function main(ctx: Parameters<Bench['run']>[0]): Promise<string> {
  const FILES = num('BENCH_FILES', ctx.quick ? 20_000 : 200_000);
  const JOB_FILES = num('BENCH_JOB_FILES', ctx.quick ? 2_000 : 10_000);
  const BIG = num('BENCH_BIG_FOLDER', ctx.quick ? 10_000 : 100_000);
  const ROUNDS = num('BENCH_ROUNDS', 2);
  // One connection by default: a browse of the big folder takes most of a second, and requests
  // still queued when a run ends would be served during the next route's run.
  const CONNECTIONS = num('BENCH_CONNECTIONS', 1);
  const PAGES = (process.env.BENCH_PAGES ?? '100,10000').split(',').map(Number).filter(Boolean);
  const db = await createDb(ctx.store, 'catalogue');
  const label = db.label;
  const dialect = db.kind;
  const say = ctx.log;
  const command = compiledServer();
  const server = await startServer(db);
  base = server.base;
  const token = await login(base);

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
  const cliFile = path.join(db.dir, 'catalogue.jsonl');
  fs.writeFileSync(cliFile, jobLines(subclientId, FILES, JOB_FILES, 'cli', 1_700_200_000));
  const oneFile = path.join(db.dir, 'one.jsonl');
  fs.writeFileSync(oneFile, jobLines(subclientId, 1, 1, 'one', 1_700_300_000));
  const cliStartMs = cliImport(db, command, oneFile);
  const cliMs = cliImport(db, command, cliFile);
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
  const results = await compare(base, cases, {
    connections: CONNECTIONS,
    seconds: ctx.seconds,
    rounds: ROUNDS,
    log: say,
  });
  await server.stop();
  await db.drop();

  const importRate = rate(FILES, httpMs);
  const row = (r: (typeof results)[number]): string[] => [
    `${r.name}: req/s (${CONNECTIONS} conn)`,
    `${r.rps.toFixed(1)} = ${r.ratio < 0.1 ? `${(r.ratio * 100).toFixed(2)} %` : pct(r.ratio)} of bare (rounds ${r.rounds.join(', ')}; p99 ${r.p99} ms)${r.failed ? `; ${r.failed} failed` : ''}`,
  ];
  return [
    `${label}; throughput of one connection, ${ctx.seconds} s a run, ${ROUNDS} interleaved rounds`,
    '',
    table(
      ['what', 'result'],
      [
        [
          `POST Catalogue/Import, ${FILES} files in ${jobs} jobs`,
          `${importRate} files/s (${(httpMs / 1000).toFixed(2)} s)`,
        ],
        [
          `bulwark catalogue import FILE, ${FILES} files`,
          `${rate(FILES, cliMs)} files/s with the process start (${(cliMs / 1000).toFixed(2)} s; a one-file import takes ` +
            `${(cliStartMs / 1000).toFixed(2)} s: ${rate(FILES, Math.max(1, cliMs - cliStartMs))} files/s without it)`,
        ],
        [
          `POST Catalogue/Import, one job of ${BIG} files in one folder`,
          `${rate(BIG, bigMs)} files/s (${(bigMs / 1000).toFixed(2)} s)`,
        ],
        ...results.map(row),
      ],
    ),
    '',
    `- import ≥ 100 000 files/s on SQLite: ${dialect === 'sqlite' ? mark(importRate >= 100_000) : 'n/a (PostgreSQL)'} (HTTP ${importRate} files/s)`,
  ].join('\n');
}

export const bench: Bench = {
  name: 'catalogue',
  summary:
    'backup catalogue: import rate (HTTP and CLI), DoBrowse of a page of a 100 000-file folder and CreateTask vs bare GET /healthz',
  goals: ['import ≥ 100 000 files/s on SQLite'],
  perStore: true,
  run: main,
};

if (isMain(import.meta.url)) await runAlone(bench);
