// In-process permission checks against a generated estate of about 1 M
// entities, 100 k users, 10 k groups and 1 M associations (issue 3's size):
// 2 M checks cycling through 4096 queries (hot in the cache), then 2 M checks
// all different (what traffic over the whole estate costs).
//   npx tsx bench/authz.ts            (BENCH_COMPANIES=1000 by default)
import { AuthzView, type Grant, type TreeEntity } from '../src/domain/authz.js';
import { BUILTIN_ROLES, ENTITY_TYPES as T } from '../src/domain/catalogue.js';
import { rng } from '../test/rng.js';

const COMPANIES = Number(process.env.BENCH_COMPANIES) || 1000;
const CLIENTS = 150;
// A sound generator: the former LCG lost bits above 2^53 and gave 99 % of grants one role.
const rand = rng(42);

const t0 = performance.now();
const entities: TreeEntity[] = [];
const clientGroups: Array<[number, number]> = [];
const leaves: Array<{ type: number; id: number; company: number }> = [];
const perCompany: number[][] = [];
let id = 1;
for (let c = 1; c <= COMPANIES; c++) {
  const mine: number[] = [];
  const groups: number[] = [];
  for (let i = 0; i < 10; i++) {
    entities.push({ id, type: T.clientGroup, companyId: c, parentId: null });
    groups.push(id);
    mine.push(id++);
  }
  for (let k = 0; k < CLIENTS; k++) {
    const client = id++;
    entities.push({ id: client, type: T.client, companyId: c, parentId: null });
    clientGroups.push([groups[rand(10)] as number, client], [groups[rand(10)] as number, client]);
    let parent = client;
    for (const type of [T.agent, T.instance, T.backupSet]) {
      entities.push({ id, type, companyId: c, parentId: parent });
      mine.push(id);
      parent = id++;
    }
    for (let s = 0; s < 3; s++) {
      entities.push({ id, type: T.subclient, companyId: c, parentId: parent });
      leaves.push({ type: T.subclient, id, company: c });
      mine.push(id++);
    }
    mine.push(client);
  }
  perCompany[c] = mine;
}
const users = COMPANIES * 100;
const groupsCount = COMPANIES * 10;
const userCompanies: Array<[number, number]> = [];
const memberships: Array<[number, number]> = [];
for (let u = 1; u <= users; u++) {
  const company = Math.ceil(u / 100);
  userCompanies.push([u, company]);
  memberships.push([(company - 1) * 10 + 1 + rand(10), u]);
}
const grants: Grant[] = [];
for (let i = 0; i < entities.length; i++) {
  const company = 1 + rand(COMPANIES);
  const list = perCompany[company] as number[];
  const e = entities[(list[rand(list.length)] as number) - 1] as TreeEntity;
  const asGroup = rand(2) === 0;
  grants.push({
    entityType: e.type,
    entityId: e.id,
    principalKind: asGroup ? 'group' : 'user',
    principalId: asGroup ? (company - 1) * 10 + 1 + rand(10) : (company - 1) * 100 + 1 + rand(100),
    roleId: 2 + rand(4),
  });
}
const rolePermissions = BUILTIN_ROLES.flatMap((r) => r.permissions.map((p) => [r.id, p] as const));
const t1 = performance.now();
const view = new AuthzView({ entities, clientGroups, grants, rolePermissions, memberships, userCompanies });
const t2 = performance.now();

const N = 2_000_000;
/** A random subclient and a user asking about it: mostly of its own company, some of another (always refused). */
function query(): { user: number; ref: { type: number; id: number } } {
  const leaf = leaves[rand(leaves.length)] as (typeof leaves)[number];
  const company = rand(10) === 0 ? 1 + rand(COMPANIES) : leaf.company;
  return { user: (company - 1) * 100 + 1 + rand(100), ref: { type: leaf.type, id: leaf.id } };
}
const queries = Array.from({ length: 4096 }, query);
for (let i = 0; i < 200_000; i++) {
  const q = queries[i & 4095] as (typeof queries)[number];
  view.allowed(q.user, 'Browse', q.ref);
}
let allowed = 0;
const t3 = performance.now();
for (let i = 0; i < N; i++) {
  const q = queries[i & 4095] as (typeof queries)[number];
  if (view.allowed(q.user, 'Browse', q.ref)) allowed++;
}
const t4 = performance.now();
// The same mix with every query different, so that few of a check's reads hit
// the cache: what a server sees when its traffic spans the whole estate.
const coldUsers = new Int32Array(N);
const coldLeaves = new Int32Array(N);
for (let i = 0; i < N; i++) {
  const q = query();
  coldUsers[i] = q.user;
  coldLeaves[i] = q.ref.id;
}
const ref = { type: T.subclient, id: 0 };
let coldAllowed = 0;
const t4a = performance.now();
for (let i = 0; i < N; i++) {
  ref.id = coldLeaves[i] as number;
  if (view.allowed(coldUsers[i] as number, 'Browse', ref)) coldAllowed++;
}
const t4b = performance.now();
const mem = process.memoryUsage().heapUsed / 2 ** 20;
console.log(
  `estate: ${entities.length} entities, ${users} users, ${groupsCount} groups, ${grants.length} associations`,
);
console.log(
  `generate ${((t1 - t0) / 1000).toFixed(1)} s, build view ${((t2 - t1) / 1000).toFixed(1)} s, heap ${mem.toFixed(0)} MiB`,
);
const checks = (what: string, ms: number, yes: number) =>
  console.log(
    `${N} checks${what} in ${(ms / 1000).toFixed(2)} s: ${((N / ms) * 1000).toFixed(0)} checks/s (${((yes / N) * 100).toFixed(0)}% allowed)`,
  );
checks(' over 4096 queries', t4 - t3, allowed);
checks(', each query different,', t4b - t4a, coldAllowed);

// One company's part replaced (what a node does after a change in that company)
// against the full build above. The part's rows are gathered first: in a node
// they come from the per-company queries.
const C = 1 + rand(COMPANIES);
const mine = new Set(perCompany[C]);
const part = {
  entities: entities.filter((e) => e.companyId === C),
  clientGroups: clientGroups.filter(([g]) => mine.has(g)),
  grants: grants.filter((g) => mine.has(g.entityId)),
  rolePermissions: [],
  memberships: memberships.filter(([g]) => g > (C - 1) * 10 && g <= C * 10),
  userCompanies: userCompanies.filter(([, c]) => c === C),
};
const t5 = performance.now();
const REPLACES = 20;
for (let i = 0; i < REPLACES; i++) view.replacePart(C, part);
const t6 = performance.now();
console.log(
  `replace one company's part (${part.entities.length} entities, ${part.grants.length} associations): ${((t6 - t5) / REPLACES).toFixed(2)} ms, vs ${(t2 - t1).toFixed(0)} ms for the full build`,
);
