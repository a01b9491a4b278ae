// In-process permission checks against a generated estate (bench/authz-estate.ts;
// at the default 1000 companies about 1.06 M entities, 100 k users, 10 k
// groups and 1.06 M associations, issue 3's size): 2 M checks cycling through
// 4096 queries (hot in the cache), then 2 M checks all different (what traffic
// over the whole estate costs), the view's heap, and one company's part
// replaced against the full build.
//   npm run bench -- authz       (or npx tsx bench/authz.ts)
// Knobs: BENCH_COMPANIES=1000 (100 in quick mode), BENCH_CHECKS=2000000.
import { AuthzView } from '../src/domain/authz.js';
import { ENTITY_TYPES as T } from '../src/domain/catalogue.js';
import { generateEstate } from './authz-estate.js';
import { type Bench, heapMb, isMain, mark, num, runAlone, table } from './harness.js';

const GOAL = 2_000_000;

export const bench: Bench = {
  name: 'authz',
  summary:
    'in-process permission checks/s at 1 M associations (hot queries, then every query different), and the view’s heap',
  goals: ['≥ 2 M checks/s with every query different at 1 M associations'],
  perStore: false,
  async run(ctx) {
    const companies = num('BENCH_COMPANIES', ctx.quick ? 100 : 1000);
    const N = num('BENCH_CHECKS', ctx.quick ? 500_000 : 2_000_000);
    const heap0 = heapMb();
    const t0 = performance.now();
    const estate = generateEstate(companies);
    const { input } = estate;
    const t1 = performance.now();
    const heap1 = heapMb();
    const view = new AuthzView(input);
    const t2 = performance.now();
    const heap2 = heapMb();
    ctx.log(`estate generated in ${((t1 - t0) / 1000).toFixed(1)} s, view built in ${((t2 - t1) / 1000).toFixed(1)} s`);

    const queries = Array.from({ length: 4096 }, estate.query);
    for (let i = 0; i < 200_000; i++) {
      const q = queries[i & 4095] as (typeof queries)[number];
      view.allowed(q.user, 'Browse', q.leaf);
    }
    let hotYes = 0;
    const t3 = performance.now();
    for (let i = 0; i < N; i++) {
      const q = queries[i & 4095] as (typeof queries)[number];
      if (view.allowed(q.user, 'Browse', q.leaf)) hotYes++;
    }
    const t4 = performance.now();
    // Every query different, so that few of a check's reads hit the cache.
    const coldUsers = new Int32Array(N);
    const coldLeaves = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      const q = estate.query();
      coldUsers[i] = q.user;
      coldLeaves[i] = q.leaf.id;
    }
    const ref = { type: T.subclient, id: 0 };
    let coldYes = 0;
    const t5 = performance.now();
    for (let i = 0; i < N; i++) {
      ref.id = coldLeaves[i] as number;
      if (view.allowed(coldUsers[i] as number, 'Browse', ref)) coldYes++;
    }
    const t6 = performance.now();

    // One company's part replaced (what a node does after a change in that company).
    const C = 1 + Math.floor(companies / 2);
    const mine = new Set(estate.perCompany[C]);
    const part = {
      entities: input.entities.filter((e) => e.companyId === C),
      clientGroups: input.clientGroups.filter(([g]) => mine.has(g)),
      grants: input.grants.filter((g) => mine.has(g.entityId)),
      rolePermissions: [],
      memberships: input.memberships.filter(([g]) => g > (C - 1) * 10 && g <= C * 10),
      userCompanies: input.userCompanies.filter(([, c]) => c === C),
    };
    const REPLACES = 20;
    const t7 = performance.now();
    for (let i = 0; i < REPLACES; i++) view.replacePart(C, part);
    const t8 = performance.now();
    const rate = (ms: number) => Math.round((N / ms) * 1000);
    const cold = rate(t6 - t5);
    if (companies < 1000)
      ctx.note(`a smaller estate than the goal's (${companies} companies; BENCH_COMPANIES=1000 for 1 M)`);
    return [
      `estate: ${input.entities.length} entities, ${estate.users} users, ${estate.groups} groups, ${input.grants.length} associations; ` +
        `view built in ${((t2 - t1) / 1000).toFixed(1)} s`,
      '',
      table(
        ['what', 'result'],
        [
          [
            `${N} checks over 4096 queries (hot)`,
            `${rate(t4 - t3).toLocaleString('en')} checks/s (${Math.round((hotYes / N) * 100)} % allowed)`,
          ],
          [
            `${N} checks, every query different`,
            `${cold.toLocaleString('en')} checks/s (${Math.round((coldYes / N) * 100)} % allowed)`,
          ],
          ['heap of the generated input (rows)', `${(heap1 - heap0).toFixed(0)} MiB`],
          ['heap of the view (typed arrays, maps incl. grantsAt/grantsTo, names)', `${(heap2 - heap1).toFixed(0)} MiB`],
          [
            `replace one company's part (${part.entities.length} entities, ${part.grants.length} associations)`,
            `${((t8 - t7) / REPLACES).toFixed(2)} ms (full build ${(t2 - t1).toFixed(0)} ms)`,
          ],
        ],
      ),
      '',
      `- ≥ 2 M checks/s, every query different: ${mark(cold >= GOAL)} (${cold.toLocaleString('en')})`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await runAlone(bench);
