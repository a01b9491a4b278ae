// Issue 13: the cost of API-key authentication on the file-devices dialect.
// Throughput of GET /v9/storage/virtual-servers with X-Api-Key against the bare
// GET /healthz, in one run on one compiled server process (so the ratio means
// something on a shared, noisy machine), first with one key stored, then with
// BENCH_KEYS (100 000) keys stored. Usage:
//   npx tsx bench/file-devices.ts                          (SQLite in a temporary folder)
//   BULWARK_DB=postgres://…/emptydb npx tsx bench/file-devices.ts   (an empty PostgreSQL database)
// Knobs: BENCH_SECONDS=5, BENCH_KEYS=100000, BENCH_CONNECTIONS=16, BENCH_PROFILE=<dir> (the
// server runs with node --cpu-prof, its profile written there on exit).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { randomPrefix } from '../src/domain/api-keys.js';
import { openStore } from '../src/store/db.js';
import { compiledServer } from './server.js';

const SECONDS = Number(process.env.BENCH_SECONDS) || 5;
const KEYS = Number(process.env.BENCH_KEYS) || 100_000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS) || 16;
const PASSWORD = 'Bench-Passw0rd!';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-fd-'));
const dbTarget = process.env.BULWARK_DB || path.join(dir, 'bench.db');
const port = 30000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
const basic = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

async function start(): Promise<ChildProcess> {
  const profile = process.env.BENCH_PROFILE;
  const child = spawn(process.execPath, compiledServer(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), {
    env: {
      ...process.env,
      PORT: String(port),
      BULWARK_DB: dbTarget,
      BULWARK_DATA_DIR: dir,
      BULWARK_ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('the server did not start');
}

async function run(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS, pipelining: 1 });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

async function post(p: string, body: unknown) {
  const res = await fetch(`${base}/v9/storage/${p}`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, any>>;
}

/** Stores `n` more keys straight into the database (rows of random hashes: only their number matters). */
async function storeKeys(n: number) {
  const store = openStore(dbTarget);
  try {
    const owner = await store.db
      .selectFrom('users')
      .select('id')
      .where('user_name', '=', 'admin')
      .executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    for (let done = 0; done < n; ) {
      const batch = Math.min(1000, n - done);
      const rows = Array.from({ length: batch }, () => ({
        prefix: randomPrefix(),
        secret_hash: randomBytes(32).toString('hex'),
        owner_user_id: owner.id,
        description: 'bench',
        is_enabled: 1,
        rest_access: 'READ_ONLY',
        soap_access: 'NO_ACCESS',
        key_type: 'UNRESTRICTED',
        allowed_call_ids: '[]',
        restricted_groups: null,
        restricted_virtual_servers: null,
        allowed_sources: null,
        expires_at: null,
        created_at: now,
        last_used_at: null,
      }));
      await store.db.insertInto('fd_api_keys').values(rows).execute();
      done += batch;
    }
  } finally {
    await store.close();
  }
}

const child = await start();
try {
  const { key } = await post('file-devices/management/api-keys', { restApiAccess: 'READ_ONLY' });
  for (let i = 1; i <= 10; i++) {
    await post('virtual-servers', { name: `evs${i}`, nodeId: 1, ipAddress: `10.0.0.${i}`, netmask: '24', port: 'ag1' });
  }
  const keyed = { 'x-api-key': key as string };
  const cases: Array<[string, string, Record<string, string>]> = [
    ['bare GET /healthz', `${base}/healthz`, {}],
    ['X-Api-Key GET virtual-servers (10 servers)', `${base}/v9/storage/virtual-servers`, keyed],
    ['X-Api-Key GET access-level (no database read)', `${base}/v9/storage/file-devices/management/access-level`, keyed],
  ];
  await run(`${base}/healthz`); // warm-up
  const table = async (title: string) => {
    const results = [];
    for (const [name, url, headers] of cases) results.push({ name, ...(await run(url, headers)) });
    const bare = results[0]?.rps ?? 1;
    console.log(
      `\n${title}: ${SECONDS}s per case, ${CONNECTIONS} connections, ${process.env.BULWARK_DB ? 'PostgreSQL' : 'SQLite'}`,
    );
    console.log('case'.padEnd(48), 'req/s'.padStart(9), 'p99 ms'.padStart(8), 'vs bare'.padStart(9));
    for (const r of results) {
      console.log(
        r.name.padEnd(48),
        r.rps.toFixed(0).padStart(9),
        String(r.p99).padStart(8),
        `${((r.rps / bare) * 100).toFixed(0)}%`.padStart(9),
      );
    }
  };
  await table('1 key stored');
  const started = Date.now();
  await storeKeys(KEYS);
  console.log(`\nstored ${KEYS} more keys in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // A key not yet cached: one indexed lookup among them all.
  const cold = await post('file-devices/management/api-keys', { restApiAccess: 'READ_ONLY' });
  const t0 = performance.now();
  const res = await fetch(`${base}/v9/storage/virtual-servers`, { headers: { 'x-api-key': cold.key } });
  console.log(`first use of a new key among ${KEYS + 2}: ${res.status}, ${(performance.now() - t0).toFixed(1)} ms`);
  await table(`${KEYS + 2} keys stored`);
} finally {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited; // its profile, if any, is written by then
  fs.rmSync(dir, { recursive: true, force: true });
}
