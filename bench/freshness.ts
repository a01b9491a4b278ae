// The per-request cost of freshness on PostgreSQL (issue 14, item 3): authorized
// reads against a bare route (GET /healthz), in one run, on two server
// processes sharing one new database: one with BULWARK_PG_LISTEN=false (every
// authorized request reads the permission version row, as before LISTEN/NOTIFY)
// and one with the default (changes told by NOTIFY, the version read only as
// the fallback). Rounds alternate between the two, each with its own bare run,
// so the machine's noise falls on both alike. On SQLite there is nothing to
// compare (no LISTEN), and the bench says so. Usage:
//   BULWARK_DB=postgres://postgres@127.0.0.1:5432/test npm run bench -- freshness
//   (or npx tsx bench/freshness.ts with the same BULWARK_DB)
// Knobs: BENCH_SECONDS (per run), BENCH_ROUNDS=2, BENCH_CONNECTIONS=32.
import {
  API,
  type Bench,
  type CaseResult,
  compare,
  createDb,
  isMain,
  login,
  num,
  pct,
  request,
  runAlone,
  type Server,
  startServer,
  table,
} from './harness.js';

export const bench: Bench = {
  name: 'freshness',
  summary: 'PostgreSQL: authorized reads vs bare with LISTEN/NOTIFY freshness against a version read per request',
  goals: [],
  perStore: true,
  async run(ctx) {
    if (ctx.store !== 'postgres') return 'PostgreSQL only (SQLite has no LISTEN/NOTIFY to compare): not run.';
    const rounds = num('BENCH_ROUNDS', 2);
    const connections = num('BENCH_CONNECTIONS', 32);
    const db = await createDb('postgres', 'fresh');
    // One after the other: the first creates the database, the second finds it.
    const nodes: Array<{ name: string; server: Server }> = [];
    nodes.push({
      name: 'version read per request (BULWARK_PG_LISTEN=false)',
      server: await startServer(db, { env: { BULWARK_PG_LISTEN: 'false' } }),
    });
    nodes.push({ name: 'LISTEN/NOTIFY, version read as fallback', server: await startServer(db) });
    const base = nodes[0]?.server.base as string;
    const token = await login(base);
    const r = await request('POST', `${base}${API}/Entities/Import`, {
      token,
      body: `${JSON.stringify({ type: 'client', name: 'bench01', os: 'Linux' })}\n`,
      type: 'application/x-ndjson',
    });
    const client = (JSON.parse(r.body) as { results?: Array<{ entityId: number }> }).results?.[0]?.entityId;
    if (!client) throw new Error(`POST Entities/Import: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    const cases = [
      { name: 'GET Organization (token)', url: `${API}/Organization`, token },
      { name: `GET Client/${client} (token)`, url: `${API}/Client/${client}`, token },
    ];
    const seen = new Map<string, CaseResult[]>();
    for (let round = 0; round < rounds; round++) {
      for (const node of nodes) {
        const results = await compare(node.server.base, cases, {
          connections,
          seconds: ctx.seconds,
          rounds: 1,
          log: (l) => ctx.log(`${node.name}: ${l}`),
        });
        for (const x of results) {
          if (x.failed) throw new Error(`${node.name}: ${x.name}: ${x.failed} failed`);
          const key = `${node.name}\t${x.name}`;
          seen.set(key, [...(seen.get(key) ?? []), x]);
        }
      }
    }
    for (const node of nodes) await node.server.stop();
    await db.drop();
    const mean = (key: string, f: (x: CaseResult) => number) => {
      const xs = seen.get(key) ?? [];
      return xs.reduce((s, x) => s + f(x), 0) / xs.length;
    };
    const rows: string[][] = [];
    for (const node of nodes) {
      for (const name of ['bare GET /healthz', ...cases.map((c) => c.name)]) {
        const key = `${node.name}\t${name}`;
        rows.push([node.name, name, mean(key, (x) => x.rps).toFixed(0), pct(mean(key, (x) => x.ratio))]);
      }
    }
    const [before, after] = [nodes[0]?.name, nodes[1]?.name];
    const change = cases.map((c) => {
      const b = mean(`${before}\t${c.name}`, (x) => x.ratio);
      const a = mean(`${after}\t${c.name}`, (x) => x.ratio);
      return `- ${c.name}: ${pct(b)} → ${pct(a)} of bare (×${(a / b).toFixed(2)})`;
    });
    return [
      `${db.label}, ${rounds} rounds of ${ctx.seconds} s per case, ${connections} connections, two servers on one database, rounds alternating`,
      '',
      table(['server', 'case', 'req/s', 'vs bare'], rows),
      '',
      'LISTEN/NOTIFY against a version read per request, each as a share of its own bare run:',
      ...change,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await runAlone(bench);
