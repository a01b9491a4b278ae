// Authentication and authorization overhead: throughput of authorized
// CommServe reads (an admin's Authtoken) against bare GET /healthz, in one run
// on one compiled server process.
//   npm run bench -- reads        (or npx tsx bench/reads.ts; BULWARK_DB=postgres://… adds PostgreSQL)
// Knobs: BENCH_SECONDS (per run), BENCH_CONNECTIONS=32, BENCH_ROUNDS=2.
import {
  API,
  type Bench,
  compare,
  compareTable,
  createDb,
  isMain,
  login,
  mark,
  num,
  pct,
  request,
  runAlone,
  secs,
  startServer,
} from './harness.js';

const GOAL = 0.6;

export const bench: Bench = {
  name: 'reads',
  summary: 'authorized CommServe reads (GET Organization, GET Client/{id}, …) vs bare GET /healthz, one server',
  goals: ['GET Organization and GET Client/{id} ≥ 60 % of bare at 32 connections, on SQLite and PostgreSQL'],
  perStore: true,
  async run(ctx) {
    const connections = num('BENCH_CONNECTIONS', 32);
    const db = await createDb(ctx.store, 'reads');
    const server = await startServer(db);
    const token = await login(server.base);
    // A client to read (with its File System chain, as cvpysdk sees one).
    const client = { type: 'client', name: 'bench01', os: 'Linux' };
    const r = await request('POST', `${server.base}${API}/Entities/Import`, {
      token,
      body: `${JSON.stringify(client)}\n`,
      type: 'application/x-ndjson',
    });
    const clientId = (JSON.parse(r.body) as { results?: Array<{ entityId: number }> }).results?.[0]?.entityId;
    if (!clientId) throw new Error(`POST Entities/Import: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    const cases = [
      { name: 'GET WhoAmI (session only)', url: `${API}/WhoAmI`, token },
      { name: 'GET Organization', url: `${API}/Organization`, token },
      { name: `GET Client/${clientId}`, url: `${API}/Client/${clientId}`, token },
      { name: 'GET User/1', url: `${API}/User/1`, token },
    ];
    for (const c of cases) {
      const one = await request('GET', `${server.base}${c.url}`, { token });
      const body = JSON.parse(one.body) as { errorCode?: number };
      if (one.status !== 200 || body.errorCode)
        throw new Error(`${c.name}: HTTP ${one.status} ${one.body.slice(0, 200)}`);
    }
    const results = await compare(server.base, cases, {
      connections,
      seconds: ctx.seconds,
      rounds: num('BENCH_ROUNDS', 2),
      log: ctx.log,
    });
    const mem = server.memory();
    await server.stop();
    await db.drop();
    const goals = results
      .filter((x) => x.name === 'GET Organization' || x.name.startsWith('GET Client/'))
      .map((x) => `- ${x.name} ≥ 60 % of bare: ${mark(x.ratio >= GOAL)} (${pct(x.ratio)})`);
    return [
      `${db.label}, ${connections} connections, ${ctx.seconds} s a run, interleaved rounds; ` +
        `server start to /readyz on the new database ${secs(server.readyMs)}; server RSS at the end ${mem ? `${mem.rssMb} MB` : 'unknown'}`,
      '',
      compareTable(results, connections),
      '',
      ...goals,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await runAlone(bench);
