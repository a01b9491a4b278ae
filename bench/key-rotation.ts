// Issue 12: `bulwark keys rotate` while a server serves. BENCH_RECORDS
// (100 000) sealed records (half Credential Manager records, half entity-bound
// accounts), one compiled server process answering authorized reads
// (GET Client/{id} with an Authtoken: the permission check and the client's
// impersonation account from entity_accounts), and the real CLI rotating every
// record in batches of BENCH_BATCH. Reports, in one run: the rotation rate
// (records/s) and the read throughput during the rotation against before it
// (and both against GET /healthz). Usage:
//   npx tsx bench/key-rotation.ts                                  (SQLite in a temporary folder)
//   BULWARK_DB=postgres://…/emptydb npx tsx bench/key-rotation.ts  (an empty PostgreSQL database)
// Knobs: BENCH_RECORDS=100000, BENCH_BATCH=500, BENCH_SECONDS=5, BENCH_CONNECTIONS=8.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { openStore } from '../src/store/db.js';
import { Vault } from '../src/store/vault.js';
import { keyCounts, seedSealed } from '../test/sealed.js';
import { compiledServer } from './server.js';

const RECORDS = Number(process.env.BENCH_RECORDS) || 100_000;
const BATCH = Number(process.env.BENCH_BATCH) || 500;
const SECONDS = Number(process.env.BENCH_SECONDS) || 5;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS) || 8;
const PASSWORD = 'Bench-Passw0rd!';
const MASTER = Buffer.alloc(32, 42);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-rot-'));
const dbTarget = process.env.BULWARK_DB || path.join(dir, 'bench.db');
const port = 30000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
const env = {
  ...process.env,
  PORT: String(port),
  BULWARK_DB: dbTarget,
  BULWARK_DATA_DIR: dir,
  BULWARK_ADMIN_PASSWORD: PASSWORD,
  BULWARK_MASTER_KEY: MASTER.toString('base64'),
  LOG_LEVEL: 'warn',
};

async function start(): Promise<ChildProcess> {
  const child = spawn(process.execPath, compiledServer(), { env, stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('the server did not start');
}

/** Load on `url` for `seconds`, or until `until` settles. */
function load(url: string, headers: Record<string, string>, seconds: number, until?: Promise<unknown>) {
  return new Promise<{ rps: number; p99: number; non2xx: number }>((resolve, reject) => {
    const inst = autocannon(
      { url, headers, connections: CONNECTIONS, duration: until ? 3600 : seconds, pipelining: 1 },
      (err, r) => (err ? reject(err) : resolve({ rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx })),
    );
    void until?.finally(() => inst.stop());
  });
}

const child = await start();
try {
  const login = await fetch(`${base}/commandcenter/api/Login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username: 'admin', password: Buffer.from(PASSWORD).toString('base64') }),
  });
  const token = ((await login.json()) as { token: string }).token;
  const store = openStore(dbTarget);
  const t0 = performance.now();
  await seedSealed(store, new Vault(store, MASTER), { credentials: RECORDS / 2, accounts: RECORDS / 2 });
  const client = await store.db
    .selectFrom('entity_accounts')
    .select('entity_id')
    .orderBy('entity_id')
    .executeTakeFirstOrThrow();
  console.log(`stored ${RECORDS} sealed records in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const read = `${base}/commandcenter/api/Client/${client.entity_id}`;
  const auth = { authtoken: token, accept: 'application/json' };
  const check = await fetch(read, { headers: auth });
  if (!check.ok || !(await check.text()).includes('impersonateUser')) throw new Error('the read does not answer');
  await load(`${base}/healthz`, {}, 2); // warm-up
  const bare = await load(`${base}/healthz`, {}, SECONDS);
  await load(read, auth, 2); // warm-up of the read (the permission view of the new clients is built here)
  const before = await load(read, auth, SECONDS);

  const r0 = performance.now();
  const cli = spawn(
    process.execPath,
    [path.resolve(import.meta.dirname, '../dist/src/main.js'), 'keys', 'rotate', '--batch', String(BATCH)],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  cli.stdout.on('data', (d) => {
    out += d;
  });
  cli.stderr.on('data', () => {});
  const done = new Promise<number | null>((resolve) => cli.on('close', resolve));
  const during = await load(read, auth, SECONDS, done);
  const code = await done;
  const seconds = (performance.now() - r0) / 1000;
  if (code !== 0) throw new Error(`keys rotate exited ${code}:\n${out}`);
  const counts = await keyCounts(store.db);
  if (counts[2] !== RECORDS) throw new Error(`not every record moved: ${JSON.stringify(counts)}`);
  await store.close();
  const said = /re-encrypted (\d+) record\(s\) under data key 2 in ([\d.]+) s/.exec(out);
  console.log(
    `\n${process.env.BULWARK_DB ? 'PostgreSQL' : 'SQLite'}: ${RECORDS} records, batches of ${BATCH}, ${CONNECTIONS} read connections`,
  );
  console.log(
    `rotation (keys rotate, process start included): ${seconds.toFixed(1)} s, ${(RECORDS / seconds).toFixed(0)} records/s`,
  );
  if (said)
    console.log(
      `rotation as the command reports it: ${said[2]} s, ${(Number(said[1]) / Number(said[2])).toFixed(0)} records/s`,
    );
  console.log('case'.padEnd(44), 'req/s'.padStart(9), 'p99 ms'.padStart(8), 'vs bare'.padStart(9));
  for (const [name, r] of [
    ['bare GET /healthz', bare],
    ['GET Client/{id} before the rotation', before],
    ['GET Client/{id} during the rotation', during],
  ] as const) {
    console.log(
      name.padEnd(44),
      r.rps.toFixed(0).padStart(9),
      String(r.p99).padStart(8),
      `${((r.rps / bare.rps) * 100).toFixed(0)}%`.padStart(9),
    );
  }
  console.log(`reads during / before the rotation: ${((during.rps / before.rps) * 100).toFixed(0)}%`);
  if (before.non2xx + during.non2xx > 0) console.log(`non-2xx answers: ${before.non2xx + during.non2xx}`);
} finally {
  child.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}
