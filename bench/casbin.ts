// The permission checks of bench/authz.ts side by side with node-casbin (the
// authorization library Node users pick), on one shared generated estate with
// inheritance (bench/authz-estate.ts), in one process and one run: checks/s
// and heap of each, and the answers of both compared query by query.
//   npm run bench -- casbin      (or npx tsx bench/casbin.ts)
// Knobs: BENCH_CASBIN_COMPANIES=10,100,1000 (estate sizes; 1 company = 1060
// associations; 1,10 in quick mode), BENCH_SECONDS (the least time spent on
// each engine's checks at a size).
//
// Casbin's model is RBAC with domains plus resource grouping: a user is in its
// groups within its company's domain (g), an entity is beneath its parent and
// a client in its client groups (g2), a role holds its permissions (g3), and
// an association is a policy (subject, company, entity, role). Bulwark's rule
// that a tenant user reaches only its own company's entities is r.dom == p.dom.
import { newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import { AuthzView } from '../src/domain/authz.js';
import { generateEstate } from './authz-estate.js';
import { type Bench, heapMb, isMain, mark, runAlone, table } from './harness.js';

const MODEL = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, role

[role_definition]
g = _, _, _
g2 = _, _
g3 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.dom == p.dom && g(r.sub, p.sub, r.dom) && g3(p.role, r.act) && g2(r.obj, p.obj)
`;

/** The estate as Casbin's policy text (CSV lines, as a file or database adapter would load them). */
function policyText(estate: ReturnType<typeof generateEstate>): string {
  const { input } = estate;
  const companyOf = new Map<number, number>();
  const lines: string[] = [];
  for (const e of input.entities) {
    companyOf.set(e.id, e.companyId);
    if (e.parentId !== null) lines.push(`g2, e${e.id}, e${e.parentId}`);
  }
  for (const [group, client] of input.clientGroups) lines.push(`g2, e${client}, e${group}`);
  const userCompany = new Map(input.userCompanies.map(([u, c]) => [u, c]));
  for (const [group, user] of input.memberships) lines.push(`g, u${user}, g${group}, c${userCompany.get(user)}`);
  for (const [role, permission] of input.rolePermissions) lines.push(`g3, r${role}, ${permission}`);
  for (const g of input.grants) {
    const sub = g.principalKind === 'group' ? `g${g.principalId}` : `u${g.principalId}`;
    lines.push(`p, ${sub}, c${companyOf.get(g.entityId)}, e${g.entityId}, r${g.roleId}`);
  }
  return lines.join('\n');
}

interface Row {
  companies: number;
  associations: number;
  bulwarkRate: number;
  bulwarkHeap: number;
  bulwarkBuildMs: number;
  casbinRate: number;
  casbinHeap: number;
  casbinLoadMs: number;
  compared: number;
  differ: number;
  allowed: number;
}

export const bench: Bench = {
  name: 'casbin',
  summary:
    'permission checks side by side with node-casbin (RBAC with domains + resource grouping) on one estate: checks/s, heap, answers compared',
  goals: ['≥ 1000× Casbin’s checks/s at 1 M associations', 'the same answer to every query compared'],
  perStore: false,
  async run(ctx) {
    const sizes = (process.env.BENCH_CASBIN_COMPANIES ?? (ctx.quick ? '1,10' : '10,100,1000'))
      .split(',')
      .map(Number)
      .filter((n) => n > 0);
    const rows: Row[] = [];
    for (const companies of sizes) {
      const estate = generateEstate(companies);
      const queries = Array.from({ length: 200_000 }, estate.query);
      const h0 = heapMb();
      let t = performance.now();
      let view: AuthzView | null = new AuthzView(estate.input);
      const bulwarkBuildMs = performance.now() - t;
      const bulwarkHeap = heapMb() - h0;
      // Bulwark: every query different, at least ctx.seconds.
      let n = 0;
      t = performance.now();
      do {
        for (const q of queries) view.allowed(q.user, 'Browse', q.leaf);
        n += queries.length;
      } while (performance.now() - t < ctx.seconds * 1000);
      const bulwarkRate = (n / (performance.now() - t)) * 1000;
      ctx.log(
        `${companies} companies: Bulwark ${Math.round(bulwarkRate)} checks/s, view ${bulwarkHeap.toFixed(0)} MiB`,
      );

      const text = policyText(estate);
      const h1 = heapMb();
      t = performance.now();
      const enforcer = await newEnforcer(newModelFromString(MODEL), new StringAdapter(text));
      const casbinLoadMs = performance.now() - t;
      const casbinHeap = heapMb() - h1;
      ctx.log(
        `${companies} companies: Casbin loaded in ${(casbinLoadMs / 1000).toFixed(1)} s, ${casbinHeap.toFixed(0)} MiB`,
      );
      // Casbin: the same queries in the same order, at least ctx.seconds and 5 checks; each answer compared.
      const userCompany = (u: number) => Math.ceil(u / 100);
      let compared = 0;
      let differ = 0;
      let allowed = 0;
      t = performance.now();
      while (compared < queries.length && (compared < 5 || performance.now() - t < ctx.seconds * 1000)) {
        const q = queries[compared] as (typeof queries)[number];
        const yes = enforcer.enforceSync(`u${q.user}`, `c${userCompany(q.user)}`, `e${q.leaf.id}`, 'Browse');
        compared++;
        if (yes) allowed++;
        if (yes !== view.allowed(q.user, 'Browse', q.leaf)) differ++;
      }
      const casbinRate = (compared / (performance.now() - t)) * 1000;
      ctx.log(
        `${companies} companies: Casbin ${casbinRate.toFixed(1)} checks/s, ${differ} of ${compared} answers differ`,
      );
      rows.push({
        companies,
        associations: estate.input.grants.length,
        bulwarkRate,
        bulwarkHeap,
        bulwarkBuildMs,
        casbinRate,
        casbinHeap,
        casbinLoadMs,
        compared,
        differ,
        allowed,
      });
      view = null;
    }
    const big = rows.find((r) => r.associations >= 1_000_000);
    const largest = rows.at(-1);
    const goal = big
      ? `- ≥ 1000× Casbin at 1 M associations: ${mark(big.bulwarkRate / big.casbinRate >= 1000)} (${Math.round(big.bulwarkRate / big.casbinRate).toLocaleString('en')}×)`
      : `- ≥ 1000× Casbin at 1 M associations: not measured at 1 M (largest estate ${largest?.associations ?? 0} associations, ` +
        `${largest ? Math.round(largest.bulwarkRate / largest.casbinRate).toLocaleString('en') : '?'}×; Casbin's check scans every policy, so its rate only falls with size)`;
    const differ = rows.reduce((s, r) => s + r.differ, 0);
    if (differ) ctx.note(`${differ} answers differ between Bulwark and Casbin: the models disagree somewhere`);
    return [
      'Each size: one generated estate, loaded into both; the same random queries (a subclient and a user, one in ten of another company), every one different; ' +
        'Casbin through `newEnforcer(model, new StringAdapter(policy))` and `enforceSync`, its answers compared with Bulwark’s one by one. ' +
        'Heap is after a full collection, with the generated input already held.',
      '',
      table(
        [
          'associations',
          'Bulwark checks/s',
          'Casbin checks/s',
          'ratio',
          'Bulwark heap / build',
          'Casbin heap / load',
          'answers compared (allowed)',
        ],
        rows.map((r) => [
          r.associations.toLocaleString('en'),
          Math.round(r.bulwarkRate).toLocaleString('en'),
          r.casbinRate < 100 ? r.casbinRate.toFixed(2) : Math.round(r.casbinRate).toLocaleString('en'),
          `${Math.round(r.bulwarkRate / r.casbinRate).toLocaleString('en')}×`,
          `${r.bulwarkHeap.toFixed(0)} MiB / ${(r.bulwarkBuildMs / 1000).toFixed(1)} s`,
          `${r.casbinHeap.toFixed(0)} MiB / ${(r.casbinLoadMs / 1000).toFixed(1)} s`,
          `${r.compared} (${r.allowed}), ${r.differ ? `**${r.differ} differ**` : 'all equal'}`,
        ]),
      ),
      '',
      goal,
      `- the same answers: ${mark(differ === 0)} (${rows.reduce((s, r) => s + r.compared, 0)} compared)`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await runAlone(bench);
