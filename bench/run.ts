// Authentication overhead: throughput of authorized CommServe reads against a
// bare route, in one run on one server process, so the ratio means something
// on a shared, noisy machine. Usage:
//   npm run bench                         (SQLite in a temporary folder)
//   BULWARK_DB=postgres://… npm run bench  (an empty PostgreSQL database)
//   BENCH_SECONDS=10 npm run bench
// The other benches run on their own (see README "Benchmarks"): bench/authz.ts,
// bench/security.ts, bench/import.ts, bench/http-estate.ts, and
// bench/catalogue.ts (catalogue import rate; DoBrowse of a 100 000-file folder
// and CreateTask against GET /healthz): `npx tsx bench/catalogue.ts`.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { compiledServer } from './server.js';

const SECONDS = Number(process.env.BENCH_SECONDS) || 5;
const PASSWORD = 'Bench-Passw0rd!';

async function startServer(): Promise<{ child: ChildProcess; port: number; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-'));
  const port = 30000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, compiledServer(), {
    env: {
      ...process.env,
      PORT: String(port),
      BULWARK_DB: process.env.BULWARK_DB || path.join(dir, 'bench.db'),
      BULWARK_DATA_DIR: dir,
      BULWARK_ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return { child, port, dir };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('the server did not start');
}

async function run(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, headers, connections: 16, duration: SECONDS, pipelining: 1 });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

const { child, port, dir } = await startServer();
try {
  const base = `http://127.0.0.1:${port}`;
  const login = await fetch(`${base}/commandcenter/api/Login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 4, username: 'admin', password: Buffer.from(PASSWORD).toString('base64') }),
  });
  const token = ((await login.json()) as { token: string }).token;
  const auth = { authtoken: token };
  await run(`${base}/healthz`); // warm-up
  const cases: Array<[string, string, Record<string, string>]> = [
    ['bare GET /healthz', `${base}/healthz`, {}],
    ['authorized GET WhoAmI', `${base}/commandcenter/api/WhoAmI`, auth],
    ['authorized GET Organization (database read)', `${base}/commandcenter/api/Organization`, auth],
    ['authorized GET User/1 (database reads)', `${base}/commandcenter/api/User/1`, auth],
  ];
  const results = [];
  for (const [name, url, headers] of cases) results.push({ name, ...(await run(url, headers)) });
  const bare = results[0]!.rps;
  console.log(`\n${SECONDS}s per case, 16 connections, ${process.env.BULWARK_DB ? 'PostgreSQL' : 'SQLite'}`);
  console.log('case'.padEnd(46), 'req/s'.padStart(9), 'p99 ms'.padStart(8), 'vs bare'.padStart(9));
  for (const r of results) {
    console.log(
      r.name.padEnd(46),
      r.rps.toFixed(0).padStart(9),
      String(r.p99).padStart(8),
      `${((r.rps / bare) * 100).toFixed(0)}%`.padStart(9),
    );
  }
} finally {
  child.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}
