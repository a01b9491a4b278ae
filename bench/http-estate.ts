// Issue 3 over HTTP, on a database holding the whole estate (bench/estate.ts:
// 1.06 M entities, 100 k users, 10 k groups, 1 M associations at the default
// size), in one run on one compiled server process, so the ratios mean
// something on a shared, noisy machine:
//   npm run bench -- http-estate      (or npx tsx bench/http-estate.ts; BULWARK_DB=postgres://… adds PostgreSQL)
// It measures: the cold start to /readyz on that estate and the first check;
// the server's RSS with the view loaded; an authorized read as the tenant
// (GET Client/{id}, GET Organization) and GET Security/Explain against bare
// GET /healthz at 32 connections; Explain's p99 at 8 concurrent connections;
// one 10 000-association POST Security; how soon a one-association change is
// seen by the next check.
// Knobs: BENCH_COMPANIES=1000 (the estate's size: 1 company = 1060 entities,
// 100 users, 10 groups, 1000 associations; 20 in quick mode), BENCH_SECONDS
// (per run), BENCH_ROUNDS=2 (interleaved), BENCH_CONNECTIONS=32,
// BENCH_ASSOCIATIONS=10000 (the big POST Security), BENCH_CHANGES=20,
// BENCH_INSERT_ROWS (rows per INSERT while loading), BENCH_NODE_ARGS (extra
// node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { hashSecret } from '../src/crypto/passwords.js';
import { bootstrap } from '../src/store/bootstrap.js';
import { openStore } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import {
  ASSOCIATIONS_PER_COMPANY,
  benchTenant,
  CLIENTS,
  countRows,
  ENTITIES_PER_COMPANY,
  ids,
  loadEstate,
} from './estate.js';
import {
  API,
  type Bench,
  compare,
  compareTable,
  createDb,
  get,
  isMain,
  latency,
  login,
  mark,
  ms,
  num,
  PASSWORD,
  pct,
  postJson,
  type Reply,
  runAlone,
  secs,
  startServer,
  table,
} from './harness.js';

const json = <T>(r: Reply): T => JSON.parse(r.body) as T;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export const bench: Bench = {
  name: 'http-estate',
  summary:
    'the 1 M-association estate over HTTP: cold start, RSS, tenant reads and Explain vs bare, Explain p99 at 8 connections, a 10 k POST Security, propagation',
  goals: [
    'GET Client/{id} and GET Organization (tenant) ≥ 60 % of bare at 32 connections',
    'Explain p99 < 2 ms at 8 connections',
    'server RSS < 600 MB at 1 M associations',
    '10 000-association POST Security < 1 s',
  ],
  perStore: true,
  async run(ctx) {
    const companies = num('BENCH_COMPANIES', ctx.quick ? 20 : 1000);
    const connections = num('BENCH_CONNECTIONS', 32);
    const bigPost = num('BENCH_ASSOCIATIONS', ctx.quick ? 1000 : 10_000);
    const changes = num('BENCH_CHANGES', ctx.quick ? 6 : 20);
    const tenant = benchTenant();
    if (companies < 2) throw new Error('BENCH_COMPANIES must be at least 2');
    const notes: string[] = [];
    const rows: Array<[string, string]> = [];

    // -- the database -------------------------------------------------------
    const db = await createDb(ctx.store, 'estate');
    ctx.log(
      `${db.label}: generating and loading ${companies} companies (${companies * ENTITIES_PER_COMPANY} entities, ` +
        `${companies * 100} users, ${companies * 10} groups, ${companies * ASSOCIATIONS_PER_COMPANY} associations)`,
    );
    const t0 = performance.now();
    const store = openStore(db.target);
    let counts: Record<string, number>;
    try {
      await migrate(store);
      await bootstrap(store, PASSWORD, new Date());
      await loadEstate(store, {
        companies,
        passwordHash: await hashSecret(PASSWORD),
        rowsPerInsert: num('BENCH_INSERT_ROWS', Number.POSITIVE_INFINITY),
        onProgress: (done) =>
          process.stderr.write(`\r  ${done}/${companies} companies, ${secs(performance.now() - t0)}`),
      });
      process.stderr.write('\n');
      counts = await countRows(store);
    } finally {
      await store.close();
    }
    const loadMs = performance.now() - t0;
    rows.push(
      [
        'estate (rows)',
        `${counts.entities} entities, ${counts.users} users, ${counts.user_groups} groups, ${counts.security_associations} associations, ` +
          `${counts.user_group_members} memberships, ${counts.client_group_clients} client-group links`,
      ],
      ['migrate + generate + load', secs(loadMs)],
    );

    // -- the server ---------------------------------------------------------
    const server = await startServer(db, { readyWithinS: 600 });
    const { base } = server;
    rows.push(['cold start to /readyz on this estate (the view loaded)', secs(server.readyMs)]);
    const adminToken = await login(base);
    const tenantToken = await login(base, tenant.loginName);
    const explainPath = (userId: number, entityType: number, entityId: number) =>
      `${API}/Security/Explain?userId=${userId}&entityType=${entityType}&entityId=${entityId}&permission=View`;
    const tenantExplain = explainPath(tenant.userId, 7, tenant.subclientId);
    const first = await get(`${base}${tenantExplain}`, tenantToken);
    const second = await get(`${base}${tenantExplain}`, tenantToken);
    rows.push(['first permission check after the start; the next', `${ms(first.ms)} ms; ${ms(second.ms)} ms`]);
    const memReady = server.memory();

    // -- what the bench relies on -------------------------------------------
    if (first.status !== 200)
      throw new Error(`Explain as the tenant: HTTP ${first.status} ${first.body.slice(0, 300)}`);
    const explained = json<{ allowed: boolean; grants: Array<{ entity: { entityType: number; entityId: number } }> }>(
      first,
    );
    const via = explained.grants.map((g) => `${g.entity.entityType}:${g.entity.entityId}`).join(', ');
    if (!explained.allowed || via !== `28:${tenant.clientGroupId}`) {
      notes.push(
        `the tenant is not granted View through its client group (granted on ${via || 'nothing'}): check bench/estate.ts`,
      );
    }
    // CommServe refusals are HTTP 200 with an errorCode: read the body.
    const outcome = (r: Reply) => {
      if (r.status !== 200) return `HTTP ${r.status}`;
      const body = json<{ errorCode?: number; clientProperties?: unknown[] }>(r);
      return body.clientProperties ? 'the client' : `errorCode ${body.errorCode ?? '?'}`;
    };
    const inside = outcome(await get(`${base}${API}/Client/${tenant.clientId}`, tenantToken));
    const outside = outcome(await get(`${base}${API}/Client/${tenant.otherClientId}`, tenantToken));
    if (inside !== 'the client')
      notes.push(`GET Client/{id} of the tenant's client group: ${inside}; its numbers measure a refusal`);
    if (outside === 'the client') notes.push('GET Client/{id} answered a client no association of the tenant reaches');

    // -- throughput against bare, and Explain's latency at 8 connections -----
    const cases = [
      { name: 'GET WhoAmI (tenant; session only)', url: `${API}/WhoAmI`, token: tenantToken },
      {
        name: 'GET Client/{id} (tenant, via client group)',
        url: `${API}/Client/${tenant.clientId}`,
        token: tenantToken,
      },
      { name: 'GET Organization (tenant)', url: `${API}/Organization`, token: tenantToken },
      {
        name: 'GET Client/{id} (admin)',
        url: `${API}/Client/${ids.client(companies, CLIENTS - 1)}`,
        token: adminToken,
      },
      { name: 'GET Security/Explain subclient (tenant, self)', url: tenantExplain, token: tenantToken },
    ];
    const runnable = [];
    for (const c of cases) {
      const r = await get(`${base}${c.url}`, c.token);
      const code = r.status === 200 ? json<{ errorCode?: number }>(r).errorCode : undefined;
      if (r.status === 200 && !code) runnable.push(c);
      else notes.push(`${c.name}: HTTP ${r.status} ${r.body.slice(0, 200)}; left out`);
    }
    const results = await compare(base, runnable, {
      connections,
      seconds: ctx.seconds,
      rounds: num('BENCH_ROUNDS', 2),
      log: ctx.log,
    });
    const explainLatency = await latency(
      base,
      { name: 'Explain', url: tenantExplain, token: tenantToken },
      { connections: 8, seconds: ctx.seconds },
    );
    const bareLatency = await latency(
      base,
      { name: 'bare', url: '/healthz' },
      { connections: 8, seconds: ctx.seconds },
    );
    const memLoaded = server.memory();

    // -- a big POST Security ------------------------------------------------
    const created = await postJson(
      `${base}${API}/User`,
      { users: [{ userEntity: { userName: 'RSmith' }, password: Buffer.from(PASSWORD).toString('base64') }] },
      adminToken,
    );
    const rsmith = json<{ response: Array<{ entity?: { userId: number } }> }>(created).response[0]?.entity?.userId;
    if (!rsmith) throw new Error(`POST User RSmith: HTTP ${created.status} ${created.body.slice(0, 300)}`);
    const entities: number[] = [];
    // Subclients of companies 2, 3, … (then 1): a CommCell user may be granted on any company's.
    const order = [...Array.from({ length: companies - 1 }, (_, k) => k + 2), 1];
    outer: for (const c of order) {
      for (let j = 0; j < CLIENTS; j++) {
        for (let s = 0; s < 3; s++) {
          entities.push(ids.subclient(c, j, s));
          if (entities.length === bigPost) break outer;
        }
      }
    }
    const view = { role: { roleName: 'View' } };
    const big = await postJson(
      `${base}${API}/Security`,
      {
        entityAssociated: { entity: entities.map((entityId) => ({ entityType: 7, _type_: 150, entityId })) },
        securityAssociations: {
          associationsOperationType: 'ADD',
          associations: [{ userOrGroup: [{ userName: 'RSmith' }], properties: view }],
        },
      },
      adminToken,
    );
    const applied =
      big.status === 200
        ? json<{ response: Array<{ errorCode: number }> }>(big).response.filter((r) => r.errorCode === 0).length
        : 0;
    if (applied !== entities.length)
      notes.push(`POST Security with ${entities.length}: ${applied} applied: ${big.body.slice(0, 200)}`);
    const afterBig = await get(`${base}${explainPath(rsmith, 7, entities[0] as number)}`, adminToken);

    // -- propagation: one association changed, then the first check ---------
    const target = ids.client(companies, 0);
    const targetExplain = `${base}${explainPath(rsmith, 3, target)}`;
    const posts: number[] = [];
    const firsts: number[] = [];
    let wrong = 0;
    for (let i = 0; i < changes; i++) {
      const op = i % 2 === 0 ? 'ADD' : 'DELETE';
      const r = await postJson(
        `${base}${API}/Security`,
        {
          entityAssociated: { entity: [{ entityType: 3, _type_: 150, entityId: target }] },
          securityAssociations: {
            associationsOperationType: op,
            associations: [{ userOrGroup: [{ userName: 'RSmith' }], properties: view }],
          },
        },
        adminToken,
      );
      if (r.status !== 200 || json<{ response: Array<{ errorCode: number }> }>(r).response[0]?.errorCode !== 0) {
        throw new Error(`POST Security ${op}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      }
      posts.push(r.ms);
      const f = await get(targetExplain, adminToken);
      firsts.push(f.ms);
      if (json<{ allowed: boolean }>(f).allowed !== (op === 'ADD')) wrong++;
    }
    if (wrong) notes.push(`${wrong} of ${changes} checks after a change did not see it`);
    const memEnd = server.memory();
    await server.stop();
    await db.drop();

    const mb = (m: typeof memEnd) => (m ? `${m.rssMb} MB` : 'unknown');
    rows.push(
      [
        'server RSS: ready / after the throughput runs / at the end (peak)',
        `${mb(memReady)} / ${mb(memLoaded)} / ${mb(memEnd)} (${memEnd?.peakMb ?? '?'} MB)`,
      ],
      [
        'GET Security/Explain at 8 connections: p50 / p99 (bare /healthz p99)',
        `${ms(explainLatency.p50)} / ${ms(explainLatency.p99)} ms over ${explainLatency.n} requests (${ms(bareLatency.p99)} ms)`,
      ],
      [
        `POST Security, ${entities.length} associations`,
        `${ms(big.ms)} ms (${applied} applied; the first check after it ${ms(afterBig.ms)} ms)`,
      ],
      [
        `one-association POST Security; the first check after it (median of ${changes}; max)`,
        `${ms(median(posts))} ms; ${ms(median(firsts))} ms (${ms(Math.max(...firsts))} ms), ${changes - wrong} of ${changes} saw the change`,
      ],
    );
    for (const n of notes) ctx.note(n);
    const byName = new Map(results.map((r) => [r.name, r]));
    const goals: string[] = [];
    for (const name of ['GET Client/{id} (tenant, via client group)', 'GET Organization (tenant)']) {
      const r = byName.get(name);
      if (r) goals.push(`- ${name} ≥ 60 % of bare: ${mark(r.ratio >= 0.6)} (${pct(r.ratio)})`);
    }
    goals.push(`- Explain p99 < 2 ms at 8 connections: ${mark(explainLatency.p99 < 2)} (${ms(explainLatency.p99)} ms)`);
    const rss = Math.max(memReady?.rssMb ?? 0, memLoaded?.rssMb ?? 0, memEnd?.rssMb ?? 0);
    goals.push(
      `- RSS < 600 MB at ${counts.security_associations} associations: ${mark(rss > 0 && rss < 600)} (${rss} MB at most of the three readings; peak ${memEnd?.peakMb ?? '?'} MB)`,
    );
    goals.push(`- ${entities.length}-association POST Security < 1 s: ${mark(big.ms < 1000)} (${ms(big.ms)} ms)`);
    if (companies < 1000)
      ctx.note(`a smaller estate than the goals' (${companies} companies; BENCH_COMPANIES=1000 for 1 M)`);
    return [
      `${db.label}, ${companies} companies; throughput at ${connections} connections, ${ctx.seconds} s a run, interleaved rounds`,
      '',
      table(['what', 'result'], rows),
      '',
      compareTable(results, connections),
      '',
      ...goals,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await runAlone(bench);
