// The event loop while passwords hash: GET /healthz latency on one connection,
// alone and then while 100 logins are in flight the whole time (argon2id on
// worker threads must not stall other requests); and the server's cold start
// to /readyz on an empty database (migrations, the first admin's password
// hash) and its restart on that database.
//   npm run bench -- logins      (or npx tsx bench/logins.ts; BULWARK_DB=postgres://… adds PostgreSQL)
// Knobs: BENCH_SECONDS, BENCH_LOGINS=100 (logins in flight).
import http from 'node:http';
import {
  type Bench,
  createDb,
  isMain,
  latency,
  login,
  mark,
  ms,
  num,
  runAlone,
  secs,
  startServer,
  table,
} from './harness.js';

const GOAL_MS = 20;

export const bench: Bench = {
  name: 'logins',
  summary: 'GET /healthz p99 while 100 logins hash; cold start to /readyz on an empty database, and a restart',
  goals: ['/healthz p99 < 20 ms while 100 logins hash'],
  perStore: true,
  async run(ctx) {
    const inFlight = num('BENCH_LOGINS', 100);
    const db = await createDb(ctx.store, 'logins');
    const first = await startServer(db);
    await first.stop();
    const server = await startServer(db);
    const { base } = server;
    await login(base);
    const bare = { name: 'GET /healthz', url: '/healthz' };
    const alone = await latency(base, bare, { connections: 1, seconds: ctx.seconds });
    // 100 logins always in flight, each on a connection of its own, for as long as /healthz is timed.
    const pool = new http.Agent({ keepAlive: true, maxSockets: inFlight });
    let stop = false;
    let logins = 0;
    let failed = 0;
    const t0 = performance.now();
    const workers = Array.from({ length: inFlight }, async () => {
      while (!stop) {
        try {
          await loginOn(base, pool);
          logins++;
        } catch {
          failed++;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 500)); // the pool full before timing
    const during = await latency(base, bare, { connections: 1, seconds: ctx.seconds });
    stop = true;
    await Promise.all(workers);
    const loginRate = (logins / (performance.now() - t0)) * 1000;
    pool.destroy();
    const mem = server.memory();
    await server.stop();
    await db.drop();
    if (failed) ctx.note(`${failed} logins failed`);
    return [
      `${db.label}; /healthz timed one request at a time on one connection, ${ctx.seconds} s each`,
      '',
      table(
        ['what', 'result'],
        [
          ['cold start to /readyz, empty database (migrations, first admin)', secs(first.readyMs)],
          ['restart to /readyz on that database', secs(server.readyMs)],
          [
            'GET /healthz alone: p50 / p99 / max',
            `${ms(alone.p50)} / ${ms(alone.p99)} / ${ms(alone.max)} ms (${alone.n} requests)`,
          ],
          [
            `GET /healthz with ${inFlight} logins in flight: p50 / p99 / max`,
            `${ms(during.p50)} / ${ms(during.p99)} / ${ms(during.max)} ms (${during.n} requests)`,
          ],
          ['logins served meanwhile', `${loginRate.toFixed(0)} logins/s`],
          ['server RSS at the end', mem ? `${mem.rssMb} MB (peak ${mem.peakMb} MB)` : 'unknown'],
        ],
      ),
      '',
      `- /healthz p99 < 20 ms while ${inFlight} logins hash: ${mark(during.p99 < GOAL_MS)} (${ms(during.p99)} ms)`,
    ].join('\n');
  },
};

async function loginOn(base: string, agent: http.Agent): Promise<void> {
  const body = JSON.stringify({
    mode: 4,
    username: 'admin',
    password: Buffer.from('Bench-Passw0rd!').toString('base64'),
  });
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      `${base}/commandcenter/api/Login`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => (res.statusCode === 200 && text.includes('"token"') ? resolve() : reject(new Error(text))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

if (isMain(import.meta.url)) await runAlone(bench);
