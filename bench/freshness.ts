// The per-request cost of freshness on PostgreSQL (issue 14, item 3): authorized
// reads against a bare route (GET /healthz), in one run, on two server
// processes sharing one new schema: one with BULWARK_PG_LISTEN=false (every
// authorized request reads the permission version row, as before LISTEN/NOTIFY)
// and one with the default (changes told by NOTIFY, the version read only as
// the fallback). Rounds alternate between the two, each its own bare run, so
// the machine's noise falls on both alike. Usage:
//   BENCH_DB=postgres://postgres@127.0.0.1:5432/test npx tsx bench/freshness.ts
// The bench creates a schema in that database and drops it at the end.
// Knobs: BENCH_SECONDS=4 (per run), BENCH_ROUNDS=2, BENCH_CONNECTIONS=32.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { isPostgresUrl } from '../src/config.js';
import { compiledServer } from './server.js';

const num = (name: string, fallback: number) => Number(process.env[name]) || fallback;
const SECONDS = num('BENCH_SECONDS', 4);
const ROUNDS = num('BENCH_ROUNDS', 2);
const CONNECTIONS = num('BENCH_CONNECTIONS', 32);
const PASSWORD = 'Bench-Passw0rd!';
const API = '/commandcenter/api';

interface Node {
  name: string;
  child: ChildProcess;
  base: string;
}

async function startNode(name: string, command: string[], env: Record<string, string>): Promise<Node> {
  const port = 30000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, command, {
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { name, child, base };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`${name}: the server did not start`);
}

async function stop(node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((r) => node.child.once('exit', r));
  node.child.kill('SIGTERM');
  await exited;
}

async function run(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r.requests.average;
}

async function main(): Promise<void> {
  const adminUrl = process.env.BENCH_DB ?? '';
  if (!isPostgresUrl(adminUrl)) throw new Error('BENCH_DB must be a postgres:// URL (the bench is about PostgreSQL)');
  const schema = `bench_fresh_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-fresh-'));
  const sep = adminUrl.includes('?') ? '&' : '?';
  const env = {
    BULWARK_DB: `${adminUrl}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    BULWARK_DATA_DIR: dir,
    BULWARK_ADMIN_PASSWORD: PASSWORD,
  };
  const nodes: Node[] = [];
  try {
    const command = compiledServer();
    // One after the other: the first creates the database, the second finds it.
    nodes.push(
      await startNode('version read per request (BULWARK_PG_LISTEN=false)', command, {
        ...env,
        BULWARK_PG_LISTEN: 'false',
      }),
    );
    nodes.push(await startNode('LISTEN/NOTIFY, version read as fallback', command, env));
    const [first] = nodes as [Node];
    const login = await fetch(`${first.base}${API}/Login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 4, username: 'admin', password: Buffer.from(PASSWORD).toString('base64') }),
    });
    const token = ((await login.json()) as { token: string }).token;
    const imported = await fetch(`${first.base}${API}/Entities/Import`, {
      method: 'POST',
      headers: { authtoken: token, 'content-type': 'application/x-ndjson', accept: 'application/json' },
      body: JSON.stringify({ type: 'client', name: 'bench01', os: 'Linux' }),
    });
    const client = ((await imported.json()) as { results: Array<{ entityId: number }> }).results[0]?.entityId;
    if (!client) throw new Error('could not create the client');
    const auth = { authtoken: token, accept: 'application/json' };
    const cases: Array<[string, string, Record<string, string>]> = [
      ['bare GET /healthz', '/healthz', {}],
      ['GET Organization (token)', `${API}/Organization`, auth],
      [`GET Client/${client} (token)`, `${API}/Client/${client}`, auth],
    ];
    const rps = new Map<string, number[]>();
    for (const node of nodes) await run(`${node.base}/healthz`); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const node of nodes) {
        for (const [name, url, headers] of cases) {
          const key = `${node.name}\t${name}`;
          rps.set(key, [...(rps.get(key) ?? []), await run(`${node.base}${url}`, headers)]);
        }
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `\n${ROUNDS} rounds of ${SECONDS} s per case, ${CONNECTIONS} connections, PostgreSQL, ${os.cpus().length} CPUs, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    const ratios = new Map<string, number>();
    for (const node of nodes) {
      console.log(`\n${node.name}`);
      console.log('case'.padEnd(30), 'req/s'.padStart(9), 'vs bare'.padStart(9));
      const bare = mean(rps.get(`${node.name}\tbare GET /healthz`) ?? [0]);
      for (const [name] of cases) {
        const r = mean(rps.get(`${node.name}\t${name}`) ?? [0]);
        ratios.set(`${node.name}\t${name}`, r / bare);
        console.log(name.padEnd(30), r.toFixed(0).padStart(9), `${((r / bare) * 100).toFixed(0)}%`.padStart(9));
      }
    }
    const [before, after] = nodes as [Node, Node];
    console.log('\nafter / before, each as a share of its own bare run:');
    for (const [name] of cases.slice(1)) {
      const b = ratios.get(`${before.name}\t${name}`) ?? 0;
      const a = ratios.get(`${after.name}\t${name}`) ?? 0;
      console.log(`  ${name.padEnd(28)} ${(b * 100).toFixed(0)}% -> ${(a * 100).toFixed(0)}% (x${(a / b).toFixed(2)})`);
    }
  } finally {
    await Promise.all(nodes.map(stop));
    await admin.query(`drop schema ${schema} cascade`).catch(() => {});
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
