// Issue 12: `bulwark keys rotate` while a server serves. BENCH_RECORDS
// (100 000; 5 000 in quick mode) sealed records (half Credential Manager
// records, half entity-bound accounts), one compiled server process answering
// authorized reads (GET Client/{id} with an Authtoken: the permission check
// and the client's impersonation account from entity_accounts), and the real
// CLI rotating every record in batches of BENCH_BATCH. Reports, in one run: the
// rotation rate (records/s) and the read throughput during the rotation
// against before it (and both against GET /healthz). Usage:
//   npm run bench -- key-rotation       (or npx tsx bench/key-rotation.ts; BULWARK_DB=postgres://… adds PostgreSQL)
// Knobs: BENCH_RECORDS=100000, BENCH_BATCH=500, BENCH_SECONDS, BENCH_CONNECTIONS=8.
import { spawn } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import { openStore } from '../src/store/db.js';
import { Vault } from '../src/store/vault.js';
import { keyCounts, seedSealed } from '../test/sealed.js';
import {
  API,
  type Bench,
  createDb,
  isMain,
  login,
  num,
  pct,
  ROOT,
  request,
  runAlone,
  startServer,
  table,
} from './harness.js';

const MASTER = Buffer.alloc(32, 42);

/** Load on `url` for `seconds`, or until `until` settles. */
function load(
  url: string,
  headers: Record<string, string>,
  connections: number,
  seconds: number,
  until?: Promise<unknown>,
) {
  return new Promise<{ rps: number; p99: number; non2xx: number }>((resolve, reject) => {
    const inst = autocannon({ url, headers, connections, duration: until ? 3600 : seconds, pipelining: 1 }, (err, r) =>
      err ? reject(err) : resolve({ rps: r.requests.total / r.duration, p99: r.latency.p99, non2xx: r.non2xx }),
    );
    void until?.finally(() => inst.stop());
  });
}

export const bench: Bench = {
  name: 'key-rotation',
  summary:
    'bulwark keys rotate over 100 000 sealed records while a server answers GET Client/{id}: rate, reads during vs before',
  // Issue 12 asks for the rate while serving, and sets no threshold.
  goals: [],
  perStore: true,
  async run(ctx) {
    const records = num('BENCH_RECORDS', ctx.quick ? 5_000 : 100_000);
    const batch = num('BENCH_BATCH', 500);
    const connections = num('BENCH_CONNECTIONS', 8);
    const db = await createDb(ctx.store, 'rot');
    const masterEnv = { BULWARK_MASTER_KEY: MASTER.toString('base64') };
    const server = await startServer(db, { env: masterEnv });
    const token = await login(server.base);
    const store = openStore(db.target);
    const t0 = performance.now();
    await seedSealed(store, new Vault(store, MASTER), { credentials: records / 2, accounts: records / 2 });
    const client = await store.db
      .selectFrom('entity_accounts')
      .select('entity_id')
      .orderBy('entity_id')
      .executeTakeFirstOrThrow();
    ctx.log(`stored ${records} sealed records in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const read = `${server.base}${API}/Client/${client.entity_id}`;
    const auth = { authtoken: token, accept: 'application/json' };
    const check = await request('GET', read, { token });
    if (check.status !== 200 || !check.body.includes('impersonateUser')) throw new Error('the read does not answer');
    await load(`${server.base}/healthz`, {}, connections, 1); // warm-up
    const bare = await load(`${server.base}/healthz`, {}, connections, ctx.seconds);
    await load(read, auth, connections, 1); // warm-up of the read (the permission view of the new clients is built here)
    const before = await load(read, auth, connections, ctx.seconds);

    const r0 = performance.now();
    const cli = spawn(
      process.execPath,
      [path.join(ROOT, 'dist/src/main.js'), 'keys', 'rotate', '--batch', String(batch)],
      {
        env: { ...process.env, BULWARK_DB: db.target, BULWARK_DATA_DIR: db.dir, LOG_LEVEL: 'warn', ...masterEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    cli.stdout.on('data', (d) => {
      out += d;
    });
    cli.stderr.on('data', () => {});
    const done = new Promise<number | null>((resolve) => cli.on('close', resolve));
    const during = await load(read, auth, connections, ctx.seconds, done);
    const code = await done;
    const seconds = (performance.now() - r0) / 1000;
    if (code !== 0) throw new Error(`keys rotate exited ${code}:\n${out}`);
    const counts = await keyCounts(store.db);
    if (counts[2] !== records) throw new Error(`not every record moved: ${JSON.stringify(counts)}`);
    await store.close();
    await server.stop();
    await db.drop();
    const said = /re-encrypted (\d+) record\(s\) under data key 2 in ([\d.]+) s/.exec(out);
    if (before.non2xx + during.non2xx > 0) ctx.note(`non-2xx answers: ${before.non2xx + during.non2xx}`);
    const ratio = during.rps / before.rps;
    return [
      `${db.label}: ${records} records, batches of ${batch}, ${connections} read connections. ` +
        `Rotation (keys rotate, process start included): ${seconds.toFixed(1)} s, ${(records / seconds).toFixed(0)} records/s` +
        (said
          ? `; as the command reports it: ${said[2]} s, ${(Number(said[1]) / Number(said[2])).toFixed(0)} records/s`
          : ''),
      '',
      table(
        ['case', 'req/s', 'p99 ms', 'vs bare'],
        (
          [
            ['bare GET /healthz', bare],
            ['GET Client/{id} before the rotation', before],
            ['GET Client/{id} during the rotation', during],
          ] as const
        ).map(([name, r]) => [name, r.rps.toFixed(0), String(r.p99), pct(r.rps / bare.rps)]),
      ),
      '',
      `reads during the rotation / before it: ${pct(ratio)}`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await runAlone(bench);
