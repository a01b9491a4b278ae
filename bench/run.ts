// The benchmark suite: every bench/*.ts that exports a `bench` (the interface
// is described at the top of bench/harness.ts), run one after another, each
// on SQLite and, when BULWARK_DB is a postgres:// URL, on PostgreSQL too (a
// database of its own per bench, created beside that URL and dropped after).
// Writes bench/RESULTS.md: the machine, the commit, the date, the command, and
// each bench's tables. Usage:
//   npm run bench                               every bench, SQLite
//   BULWARK_DB=postgres://postgres@127.0.0.1:5432/postgres npm run bench   SQLite, then PostgreSQL
//   npm run bench -- reads casbin               only these
//   npm run bench -- --quick                    small estates and 1 s runs (BENCH_QUICK=1)
//   npm run bench -- --list                     the benches found
//   BENCH_SECONDS=10 npm run bench              longer runs
// A named run replaces only those benches' sections of RESULTS.md.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Bench,
  cleanupAll,
  commit,
  isBench,
  machine,
  postgresUrl,
  QUICK,
  ROOT,
  SECONDS,
  type StoreKind,
} from './harness.js';

const DIR = path.join(ROOT, 'bench');
const RESULTS = path.join(DIR, 'RESULTS.md');

/** The benches of bench/: files whose text exports `bench` (others are helpers or scripts run alone). */
async function registry(): Promise<Bench[]> {
  const found: Bench[] = [];
  for (const file of fs.readdirSync(DIR).sort()) {
    if (!file.endsWith('.ts') || file === 'run.ts' || file === 'harness.ts') continue;
    // Read before importing: a script with top-level work must not start by being looked at.
    if (!/export const bench\b/.test(fs.readFileSync(path.join(DIR, file), 'utf8'))) continue;
    const mod = (await import(pathToFileURL(path.join(DIR, file)).href)) as { bench?: unknown };
    if (!isBench(mod.bench)) throw new Error(`bench/${file} exports a bench that lacks the harness's interface`);
    found.push(mod.bench);
  }
  return found;
}

const args = process.argv.slice(2);
const all = await registry();
if (args.includes('--list')) {
  for (const b of all) process.stdout.write(`${b.name.padEnd(14)} ${b.summary}\n`);
  process.exit(0);
}
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !all.some((b) => b.name === n));
if (unknown.length) {
  process.stderr.write(`no bench named ${unknown.join(', ')}; there are: ${all.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
const chosen = names.length ? all.filter((b) => names.includes(b.name)) : all;
const stores: StoreKind[] = postgresUrl() ? ['sqlite', 'postgres'] : ['sqlite'];
// Every BENCH_* knob set is part of the command: the estates' sizes change what the figures mean.
const knobs = Object.entries(process.env)
  .filter(([k]) => k.startsWith('BENCH_') && k !== 'BENCH_DB')
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([k, v]) => `${k}=${v} `)
  .join('');
const command = `${postgresUrl() ? 'BULWARK_DB=postgres://… ' : ''}${knobs}npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
const header = [
  `- machine: ${machine()}`,
  '- the machine is shared with other jobs (8 concurrent builds and test runs): single figures move between runs; the ratios to bare GET /healthz, measured in the same run, are what count',
  `- commit ${commit()}, ${new Date().toISOString()}`,
  `- command: \`${command}\`${QUICK ? ' (quick mode: small estates, short runs)' : ''}, ${SECONDS} s per measured run`,
].join('\n');

const sections = new Map<string, string>();
let failed = 0;
const t0 = performance.now();
try {
  for (const bench of chosen) {
    for (const store of bench.perStore ? stores : (['sqlite'] as StoreKind[])) {
      const title = `${bench.name}${bench.perStore ? ` (${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'})` : ''}`;
      process.stderr.write(`\n== ${title}: ${bench.summary}\n`);
      const notes: string[] = [];
      const started = performance.now();
      let body: string;
      try {
        body = await bench.run({
          store,
          seconds: SECONDS,
          quick: QUICK,
          log: (l) => process.stderr.write(`  ${l}\n`),
          note: (l) => notes.push(l),
        });
      } catch (e) {
        failed++;
        body = `**failed**: ${(e as Error).message}`;
        process.stderr.write(`${(e as Error).stack}\n`);
      } finally {
        await cleanupAll();
      }
      const took = `${((performance.now() - started) / 1000).toFixed(0)} s`;
      const text = [
        `## ${title}`,
        '',
        `${bench.summary}. Goals: ${bench.goals.join('; ') || 'none'}. Took ${took}.`,
        '',
        body,
        ...(notes.length ? ['', ...notes.map((n) => `- note: ${n}`)] : []),
        '',
        `<sub>${header.split('\n')[2]?.slice(2)}; \`${command}\`</sub>`,
      ].join('\n');
      sections.set(title, text);
      process.stdout.write(`\n${text}\n`);
    }
  }
} finally {
  await cleanupAll();
}

// A named run keeps the other benches' sections of the file as they were.
const kept = new Map<string, string>();
if (names.length && fs.existsSync(RESULTS)) {
  const old = fs
    .readFileSync(RESULTS, 'utf8')
    .split(/^(?=## )/m)
    .slice(1);
  for (const s of old) {
    const title = /^## (.*)$/m.exec(s)?.[1] ?? '';
    if (!sections.has(title)) kept.set(title, s.trimEnd());
  }
}
const merged = [...kept, ...sections].sort(([a], [b]) => a.localeCompare(b)).map(([, s]) => s);
fs.writeFileSync(
  RESULTS,
  `# Benchmark results\n\nWritten by \`npm run bench\` (bench/run.ts); each section names the run it comes from.\n` +
    `The last run:\n\n${header}\n\n${merged.join('\n\n')}\n`,
);
process.stderr.write(
  `\n${chosen.length} benches in ${((performance.now() - t0) / 1000).toFixed(0)} s; wrote ${path.relative(ROOT, RESULTS)}\n`,
);
if (failed) process.exit(1);
