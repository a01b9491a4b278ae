// Bulk entity import at estate size: generates a JSON-lines file and imports
// it the way `bulwark import FILE` does (a read stream, one transaction).
//   npx tsx bench/import.ts                                   (SQLite in a temporary folder)
//   BULWARK_DB=postgres://…/db npx tsx bench/import.ts        (SQLite, then PostgreSQL in a fresh schema)
//   BENCH_ENTITIES=100000 BENCH_PARTIAL=1 BENCH_BATCH=1000 npx tsx bench/import.ts
// The estate: 10 client groups per 1000 clients; each client in two groups,
// with an agent, an instance, a backup set and three subclients beneath
// (named by path, as the names repeat under every client); a plan, storage
// policy, schedule policy, alert or workflow after every hundredth client.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import pg from 'pg';
import { isPostgresUrl } from '../src/config.js';
import { importEntities } from '../src/import/entities.js';
import { bootstrap } from '../src/store/bootstrap.js';
import { openStore, type Store } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';

const N = Number(process.env.BENCH_ENTITIES) || 1_000_000;
const PARTIAL = process.env.BENCH_PARTIAL === '1';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-import-'));
const file = path.join(dir, 'estate.jsonl');

function* estate(n: number): Generator<string> {
  const TOP = ['plan', 'storagePolicy', 'schedulePolicy', 'alert', 'workflow'];
  let emitted = 0;
  const emit = (o: unknown) => {
    emitted++;
    return JSON.stringify(o);
  };
  for (let c = 0; emitted < n; c++) {
    if (c % 1000 === 0) {
      for (let g = 0; g < 10 && emitted < n; g++) yield emit({ type: 'clientGroup', name: `group-${c / 1000}-${g}` });
    }
    const block = Math.floor(c / 1000);
    const client = { type: 'client', name: `client-${c}` };
    const agent = { type: 'agent', name: 'File System', parent: client };
    const instance = { type: 'instance', name: 'DefaultInstanceName', parent: agent };
    const backupSet = { type: 'backupSet', name: 'defaultBackupSet', parent: instance };
    const lines: Array<Record<string, unknown>> = [
      { ...client, clientGroups: [`group-${block}-${c % 10}`, `group-${block}-${(c + 3) % 10}`] },
      agent,
      instance,
      backupSet,
      { type: 'subclient', name: 'default', parent: backupSet },
      { type: 'subclient', name: 'logs', parent: backupSet },
      { type: 'subclient', name: 'system state', parent: backupSet },
    ];
    if (c % 100 === 99) lines.push({ type: TOP[((c / 100) % 5) | 0] as string, name: `top-${c}` });
    for (const l of lines) {
      if (emitted >= n) return;
      yield emit(l);
    }
  }
}

const t0 = performance.now();
const out = fs.createWriteStream(file);
let chunk: string[] = [];
for (const line of estate(N)) {
  chunk.push(line);
  if (chunk.length === 10_000) {
    if (!out.write(`${chunk.join('\n')}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    chunk = [];
  }
}
out.end(chunk.length ? `${chunk.join('\n')}\n` : '');
await new Promise<void>((r) => out.on('finish', () => r()));
const mb = fs.statSync(file).size / 1024 / 1024;
console.log(`generated ${N} lines (${mb.toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

async function run(label: string, store: Store): Promise<void> {
  await migrate(store);
  await bootstrap(store, 'Bench-Passw0rd!', new Date());
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let peakRss = process.memoryUsage.rss();
  const start = performance.now();
  const r = await importEntities(store, lines, {
    partial: PARTIAL,
    actor: { userId: null, name: 'bench', companyId: null },
    clock: () => new Date(),
    defaultCompanyId: 0,
    access: () => 'write',
    progressEvery: 50_000,
    batchSize: Number(process.env.BENCH_BATCH) || 1000,
    onProgress: (p) => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      process.stderr.write(`\r${label}: ${p.lines} lines`);
    },
    onError: (e) => {
      throw new Error(`line ${e.line}: ${e.message}`);
    },
  });
  const s = (performance.now() - start) / 1000;
  process.stderr.write('\n');
  if (!r.committed || r.imported !== N) throw new Error(`${label}: imported ${r.imported} of ${N}`);
  const rows = await store.db
    .selectFrom('entities')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  console.log(
    `${label}: ${r.imported} entities (${Number(rows.n)} rows) in ${s.toFixed(1)} s = ${Math.round(N / s)} lines/s` +
      `${PARTIAL ? ' (partial: a transaction per 1000 rows)' : ' (one transaction)'}, peak RSS ${Math.round(peakRss / 1024 / 1024)} MB`,
  );
}

try {
  const sqlite = openStore(path.join(dir, 'bench.db'));
  try {
    await run('SQLite', sqlite);
  } finally {
    await sqlite.close();
  }
  const url = process.env.BULWARK_DB;
  if (url && isPostgresUrl(url)) {
    const schema = `bench_import_${process.pid}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const store = openStore(url, { schema });
    try {
      await run('PostgreSQL', store);
    } finally {
      await store.close();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
