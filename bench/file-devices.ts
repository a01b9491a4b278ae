// Issue 13: the cost of API-key authentication on the file-devices dialect.
// Throughput of GET /v9/storage/virtual-servers with X-Api-Key against the bare
// GET /healthz, in one run on one compiled server process (so the ratio means
// something on a shared, noisy machine), first with one key stored, then with
// BENCH_KEYS (100 000) keys stored. Usage:
//   npm run bench -- file-devices  (or npx tsx bench/file-devices.ts; BULWARK_DB=postgres://… adds PostgreSQL)
// Knobs: BENCH_SECONDS, BENCH_KEYS=100000 (10 000 in quick mode), BENCH_CONNECTIONS=16.
import { randomBytes } from 'node:crypto';
import { randomPrefix } from '../src/domain/api-keys.js';
import { openStore } from '../src/store/db.js';
import {
  type Bench,
  type BenchDb,
  type CaseResult,
  compare,
  createDb,
  isMain,
  num,
  PASSWORD,
  pct,
  runAlone,
  startServer,
  table,
} from './harness.js';

const basic = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

async function post(base: string, p: string, body: unknown) {
  const res = await fetch(`${base}/v9/storage/${p}`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, any>>;
}

/** Stores `n` more keys straight into the database (rows of random hashes: only their number matters). */
async function storeKeys(db: BenchDb, n: number) {
  const store = openStore(db.target);
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

export const bench: Bench = {
  name: 'file-devices',
  summary:
    'X-Api-Key GET virtual-servers and access-level vs bare GET /healthz, with 1 key and with 100 000 keys stored',
  goals: ['X-Api-Key GET virtual-servers ≥ 70 % of bare'],
  perStore: true,
  async run(ctx) {
    const keys = num('BENCH_KEYS', ctx.quick ? 10_000 : 100_000);
    const connections = num('BENCH_CONNECTIONS', 16);
    const db = await createDb(ctx.store, 'fd');
    const server = await startServer(db);
    const { base } = server;
    const { key } = await post(base, 'file-devices/management/api-keys', { restApiAccess: 'READ_ONLY' });
    for (let i = 1; i <= 10; i++) {
      await post(base, 'virtual-servers', {
        name: `evs${i}`,
        nodeId: 1,
        ipAddress: `10.0.0.${i}`,
        netmask: '24',
        port: 'ag1',
      });
    }
    const headers = { 'x-api-key': key as string };
    const cases = [
      { name: 'X-Api-Key GET virtual-servers (10 servers)', url: '/v9/storage/virtual-servers', headers },
      {
        name: 'X-Api-Key GET access-level (no database read)',
        url: '/v9/storage/file-devices/management/access-level',
        headers,
      },
    ];
    const opts = { connections, seconds: ctx.seconds, rounds: num('BENCH_ROUNDS', 2), log: ctx.log };
    const one = await compare(base, cases, opts);
    const t0 = performance.now();
    await storeKeys(db, keys);
    const storeMs = performance.now() - t0;
    // A key not yet cached: one indexed lookup among them all.
    const cold = await post(base, 'file-devices/management/api-keys', { restApiAccess: 'READ_ONLY' });
    const t1 = performance.now();
    const res = await fetch(`${base}/v9/storage/virtual-servers`, { headers: { 'x-api-key': cold.key } });
    const firstUseMs = performance.now() - t1;
    if (res.status !== 200) throw new Error(`the new key: HTTP ${res.status}`);
    const many = await compare(base, cases, opts);
    await server.stop();
    await db.drop();
    const cell = (r: CaseResult | undefined) =>
      r ? `${pct(r.ratio)} (${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms)` : '';
    const vs = many.find((r) => r.name.includes('virtual-servers'));
    return [
      `${db.label}, ${connections} connections, ${ctx.seconds} s a run, interleaved rounds; ${keys} keys stored in ${(storeMs / 1000).toFixed(1)} s`,
      '',
      table(
        ['case', '1 key stored', `${keys + 2} keys stored`],
        [
          ...one.map((r, i) => [r.name, cell(r), cell(many[i])]),
          [`first use of a new key among ${keys + 2} (one indexed lookup)`, '', `${firstUseMs.toFixed(1)} ms`],
        ],
      ),
      '',
      `- X-Api-Key GET virtual-servers ≥ 70 % of bare with ${keys + 2} keys: ${vs && vs.ratio >= 0.7 ? 'met' : '**not met**'} (${vs ? pct(vs.ratio) : '?'})`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await runAlone(bench);
