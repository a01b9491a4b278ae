// Issue 12: POST User/AccountManagement over a large vault. 100 000 stored
// accounts (60 000 entity-bound: a UNC-path user, an instance and a client
// impersonation user on each of 20 000 clients' chains; 40 000 Credential
// Manager records), of which 1 000 share one user name (in its spellings
// `CORP\svc`, `svc@corp`, `corp\SVC`) and one password. Times a preview and an
// apply (the password goes back and forth so every run changes 1 000 accounts),
// each the median of BENCH_RUNS, against GET /healthz measured in the same run
// on the same compiled server. Usage:
//   npx tsx bench/credentials.ts                 (SQLite in a temporary folder)
//   BENCH_DB=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/credentials.ts
//       (PostgreSQL: BENCH_DB is an administrative URL; the bench creates its own
//        database beside it and drops it at the end, failure or not)
// Knobs: BENCH_ACCOUNTS=100000, BENCH_MATCHES=1000, BENCH_RUNS=5, BENCH_PORT (default random).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { ENTITY_TYPES } from '../src/domain/catalogue.js';
import { credentialIdentity, entityAccountIdentity, userKey } from '../src/domain/credentials.js';
import { bumpAuthzVersion } from '../src/store/authz.js';
import { openStore } from '../src/store/db.js';
import { Vault } from '../src/store/vault.js';
import { compiledServer } from './server.js';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS) || 100_000;
const MATCHES = Number(process.env.BENCH_MATCHES) || 1_000;
const RUNS = Number(process.env.BENCH_RUNS) || 5;
const PASSWORD = 'Bench-Passw0rd!';
const MASTER_KEY = Buffer.alloc(32, 42);
const API = '/commandcenter/api';

const adminUrl = process.env.BENCH_DB ?? '';
const dialect = adminUrl ? 'postgres' : 'sqlite';
const label = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-cred-'));
const pgName = `bulwark_bench_cred_${process.pid}_${Date.now().toString(36)}`;
let dbTarget = path.join(dir, 'bench.db');
let pgCreated = false;
let child: ChildProcess | null = null;
const port = Number(process.env.BENCH_PORT) || 30000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
const say = (line = '') => process.stdout.write(`${line}\n`);

async function cleanup(): Promise<void> {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child?.once('exit', () => r()));
    child.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (pgCreated) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${pgName} with (force)`).catch(() => {});
    await admin.end();
  }
}

async function startServer(): Promise<void> {
  child = spawn(process.execPath, compiledServer(), {
    env: {
      ...process.env,
      PORT: String(port),
      BULWARK_DB: dbTarget,
      BULWARK_DATA_DIR: dir,
      BULWARK_ADMIN_PASSWORD: PASSWORD,
      BULWARK_MASTER_KEY: MASTER_KEY.toString('base64'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not start');
}

/** Every matching account gets one of the spellings of one name; the others have names of their own. */
const SPELLINGS = ['CORP\\svc', 'svc@corp', 'corp\\SVC'];

/** Puts the estate straight into the store, sealed with the server's master key. */
async function populate(): Promise<void> {
  const store = openStore(dbTarget);
  const vault = new Vault(store, MASTER_KEY);
  const chains = Math.floor((ACCOUNTS * 0.6) / 3);
  const records = ACCOUNTS - chains * 3;
  // Every (ACCOUNTS / MATCHES)-th account matches.
  const every = Math.floor(ACCOUNTS / MATCHES);
  let n = 0;
  let matched = 0;
  const nameOf = () => {
    const i = n++;
    if (i % every === 0 && matched < MATCHES) return SPELLINGS[matched++ % SPELLINGS.length] as string;
    return `corp\\user${i}`;
  };
  const at = new Date().toISOString();
  try {
    const BATCH = 500;
    for (let from = 0; from < chains; from += BATCH) {
      await store.db.transaction().execute(async (tx) => {
        const seal = await vault.sealer(tx);
        const entities = [];
        const attrs = [];
        const accounts = [];
        for (let c = from; c < Math.min(from + BATCH, chains); c++) {
          const id = 1_000 + c * 5;
          const row = (k: number, type: number, parent: number | null, name: string) => ({
            id: id + k,
            type,
            company_id: 0,
            parent_id: parent,
            parent_key: parent ?? 0,
            name,
            name_key: name.toLowerCase(),
            created_at: at,
          });
          entities.push(
            row(0, ENTITY_TYPES.client, null, `client${c}`),
            row(1, ENTITY_TYPES.agent, id, 'File System'),
            row(2, ENTITY_TYPES.instance, id + 1, 'DefaultInstanceName'),
            row(3, ENTITY_TYPES.backupSet, id + 2, 'defaultBackupSet'),
            row(4, ENTITY_TYPES.subclient, id + 3, 'default'),
          );
          attrs.push({ entity_id: id, app_id: null, os: 'Windows' });
          for (const [entity, kind] of [
            [id + 4, 'subclientUnc'],
            [id + 2, 'instanceImpersonation'],
            [id, 'clientImpersonation'],
          ] as const) {
            const userName = nameOf();
            const sealed = seal(entityAccountIdentity(entity, kind), PASSWORD);
            accounts.push({
              entity_id: entity,
              kind,
              company_id: 0,
              user_name: userName,
              user_key: userKey(userName),
              key_id: sealed.keyId,
              secret: sealed.secret,
              updated_at: at,
            });
          }
        }
        await tx.insertInto('entities').values(entities).execute();
        await tx.insertInto('entity_attributes').values(attrs).execute();
        await tx.insertInto('entity_accounts').values(accounts).execute();
        await bumpAuthzVersion(tx, [0]);
      });
    }
    for (let from = 0; from < records; from += BATCH) {
      await store.db.transaction().execute(async (tx) => {
        const seal = await vault.sealer(tx);
        const rows = [];
        for (let r = from; r < Math.min(from + BATCH, records); r++) {
          const id = r + 1;
          const userName = nameOf();
          const sealed = seal(credentialIdentity(id), PASSWORD);
          rows.push({
            id,
            company_id: 0,
            name: `record${id}`,
            name_key: `record${id}`,
            record_type: 'WINDOWSACCOUNT',
            database_type: null,
            description: '',
            owner_user_id: null,
            user_name: userName,
            user_key: userKey(userName),
            key_id: sealed.keyId,
            secret: sealed.secret,
            created_at: at,
            updated_at: at,
          });
        }
        await tx.insertInto('credentials').values(rows).execute();
      });
    }
    if (dialect === 'postgres') {
      await sql`select setval(pg_get_serial_sequence('credentials', 'id'), ${records})`.execute(store.db);
    }
    say(`stored ${chains * 3} entity-bound accounts and ${records} records; ${matched} match`);
  } finally {
    await store.close();
  }
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  if (dialect === 'postgres') {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${pgName}`);
    pgCreated = true;
    await admin.end();
    const u = new URL(adminUrl);
    u.pathname = `/${pgName}`;
    dbTarget = u.toString();
  }
  await startServer();
  const started = performance.now();
  await populate();
  say(`populated in ${((performance.now() - started) / 1000).toFixed(1)} s (${label})`);
  const login = await fetch(`${base}${API}/Login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 4, username: 'admin', password: Buffer.from(PASSWORD).toString('base64') }),
  });
  const token = ((await login.json()) as { token: string }).token;
  let current = PASSWORD;
  const call = async (preview: 0 | 1, next: string) => {
    const res = await fetch(`${base}${API}/User/AccountManagement`, {
      method: 'POST',
      headers: { authtoken: token, 'content-type': 'application/xml', accept: 'application/json' },
      body: `<GuiServer_ModifyCredsReq preview="${preview}" reason="bench" skipPasswordCheck="0"><credsInfo><oldCredentials password="${current}" userName="corp\\svc"/><newCredentials password="${next}" userName="corp\\svc"/></credsInfo></GuiServer_ModifyCredsReq>`,
    });
    const body = (await res.json()) as { errorCode?: number; credentialChanges?: Array<{ entities: object }> };
    if (body.errorCode !== undefined && body.errorCode !== 0) throw new Error(JSON.stringify(body));
    if (preview === 1) {
      const listed = JSON.stringify(body.credentialChanges).match(/"_type_"/g)?.length ?? 0;
      if (listed !== MATCHES) throw new Error(`preview listed ${listed} accounts, expected ${MATCHES}`);
    } else current = next;
  };
  const healthz = async () => {
    const res = await fetch(`${base}/healthz`);
    await res.arrayBuffer();
  };
  // Warm-up: the permission view, the data keys, the code paths.
  for (let i = 0; i < 50; i++) await healthz();
  await call(1, 'Other-Passw0rd!');
  const bare: number[] = [];
  const previews: number[] = [];
  const applies: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (let i = 0; i < 20; i++) bare.push(await time(healthz));
    previews.push(await time(() => call(1, 'Other-Passw0rd!')));
    const next = current === PASSWORD ? 'Other-Passw0rd!' : PASSWORD;
    applies.push(await time(() => call(0, next)));
  }
  const b = median(bare);
  say(`\nPOST User/AccountManagement, ${ACCOUNTS} accounts stored, ${MATCHES} matching, ${label}, median of ${RUNS}`);
  say(`${'case'.padEnd(34)}${'ms'.padStart(10)}${'x GET /healthz'.padStart(16)}`);
  for (const [name, ms] of [
    ['GET /healthz (bare)', b],
    ['preview=1 (1 000 listed)', median(previews)],
    ['preview=0 (1 000 changed)', median(applies)],
  ] as const) {
    say(`${name.padEnd(34)}${ms.toFixed(1).padStart(10)}${(ms / b).toFixed(0).padStart(16)}`);
  }
  say(
    `all runs (ms): preview ${previews.map((x) => x.toFixed(0)).join(' ')}; apply ${applies.map((x) => x.toFixed(0)).join(' ')}`,
  );
}

try {
  await main();
} finally {
  await cleanup();
}
