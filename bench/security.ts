// POST Security at size, and the cost of an authorized check over HTTP.
//   npx tsx bench/security.ts                          (SQLite in a temporary folder)
//   BULWARK_DB=postgres://…/empty_db npx tsx bench/security.ts
// Prints: the time of one 10 k-association POST Security, then throughput and
// p99 of GET Security/Explain (a permission check plus two small reads)
// against GET /healthz, measured in the same run.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { bootstrap } from '../src/store/bootstrap.js';
import { openStore } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PASSWORD = 'Bench-Passw0rd!';
const ASSOCIATIONS = Number(process.env.BENCH_ASSOCIATIONS) || 10_000;
const SECONDS = Number(process.env.BENCH_SECONDS) || 5;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-'));
const db = process.env.BULWARK_DB || path.join(dir, 'bench.db');

// The estate: ASSOCIATIONS plans owned by the CommCell, and a user to grant on them.
const store = openStore(db);
await migrate(store);
await bootstrap(store, PASSWORD, new Date());
const at = new Date().toISOString();
for (let k = 0; k < ASSOCIATIONS; k += 1000) {
  await store.db
    .insertInto('entities')
    .values(
      Array.from({ length: Math.min(1000, ASSOCIATIONS - k) }, (_, i) => ({
        type: 158,
        company_id: 0,
        parent_id: null,
        parent_key: 0,
        name: `plan-${k + i}`,
        name_key: `plan-${k + i}`,
        created_at: at,
      })),
    )
    .execute();
}
await store.db.updateTable('authz_version').set({ version: 1000 }).execute();
const planIds = (await store.db.selectFrom('entities').select('id').execute()).map((r) => r.id);
await store.close();

const port = 30000 + Math.floor(Math.random() * 20000);
const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'serve'], {
  env: { ...process.env, PORT: String(port), BULWARK_DB: db, BULWARK_DATA_DIR: dir, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  const json = (body: unknown, token?: string) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authtoken: token } : {}) },
    body: JSON.stringify(body),
  });
  const login = await fetch(
    `${base}/commandcenter/api/Login`,
    json({ username: 'admin', password: Buffer.from(PASSWORD).toString('base64') }),
  );
  const token = ((await login.json()) as { token: string }).token;
  await fetch(
    `${base}/commandcenter/api/User`,
    json(
      { users: [{ userEntity: { userName: 'RSmith' }, password: Buffer.from(PASSWORD).toString('base64') }] },
      token,
    ),
  );
  const body = {
    entityAssociated: { entity: planIds.map((entityId) => ({ entityType: 158, _type_: 150, entityId })) },
    securityAssociations: {
      associationsOperationType: 'ADD',
      associations: [{ userOrGroup: [{ userName: 'RSmith' }], properties: { role: { roleName: 'View' } } }],
    },
  };
  const t0 = performance.now();
  const res = await fetch(`${base}/commandcenter/api/Security`, json(body, token));
  const answer = (await res.json()) as { response: Array<{ errorCode: number }> };
  const ms = performance.now() - t0;
  const ok = answer.response.filter((r) => r.errorCode === 0).length;
  console.log(`POST Security with ${ASSOCIATIONS} associations: ${ms.toFixed(0)} ms (${ok} applied)`);

  const who = await fetch(`${base}/commandcenter/api/WhoAmI`, { headers: { authtoken: token } });
  void who;
  const users = (await (await fetch(`${base}/commandcenter/api/User`, { headers: { authtoken: token } })).json()) as {
    users: Array<{ userEntity: { userName: string; userId: number } }>;
  };
  const rsmith = users.users.find((u) => u.userEntity.userName === 'RSmith')?.userEntity.userId;
  const run = async (url: string, headers: Record<string, string> = {}) => {
    const r = await autocannon({ url, headers, connections: 8, duration: SECONDS });
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    return { rps: r.requests.average, p99: r.latency.p99 };
  };
  const explain = `${base}/commandcenter/api/Security/Explain?userId=${rsmith}&entityType=158&entityId=${planIds[7]}&permission=View`;
  await run(`${base}/healthz`);
  const bare = await run(`${base}/healthz`);
  const check = await run(explain, { authtoken: token });
  console.log(`GET /healthz:          ${bare.rps.toFixed(0)} req/s, p99 ${bare.p99} ms`);
  console.log(
    `GET Security/Explain:  ${check.rps.toFixed(0)} req/s, p99 ${check.p99} ms (${((check.rps / bare.rps) * 100).toFixed(0)}% of bare)`,
  );
} finally {
  child.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}
