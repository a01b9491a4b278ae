import { describe, expect, it, vi } from 'vitest';
import { grant } from '../../test/grants.js';
import { rng } from '../../test/rng.js';
import { AuthzView, type EntityRef, type Grant, type TreeEntity, type ViewInput } from './authz.js';
import { BUILTIN_ROLES, PERMISSIONS, ENTITY_TYPES as T } from './catalogue.js';
import { ListPool } from './list-pool.js';

// A small estate: the CommCell owns client group 10; company 7 owns client
// groups 20 and 21, client 30 (in both groups), agent 31 > instance 32 >
// backup set 33 > subclient 34, and plan 40. Company 8 owns client 50.
const entities: TreeEntity[] = [
  { id: 10, type: T.clientGroup, companyId: 0, parentId: null },
  { id: 20, type: T.clientGroup, companyId: 7, parentId: null },
  { id: 21, type: T.clientGroup, companyId: 7, parentId: null },
  { id: 30, type: T.client, companyId: 7, parentId: null },
  { id: 31, type: T.agent, companyId: 7, parentId: 30 },
  { id: 32, type: T.instance, companyId: 7, parentId: 31 },
  { id: 33, type: T.backupSet, companyId: 7, parentId: 32 },
  { id: 34, type: T.subclient, companyId: 7, parentId: 33 },
  { id: 40, type: T.plan, companyId: 7, parentId: null },
  { id: 50, type: T.client, companyId: 8, parentId: null },
];
// Users: 1 CommCell admin (group 100 = master), 2 tenant user of company 7,
// 3 another tenant user of 7 in group 200, 4 tenant user of company 8.
const MASTER = 1;
const RESTORE = 4;
const VIEW = 5;
const base = {
  entities,
  clientGroups: [
    [20, 30],
    [21, 30],
  ] as const,
  rolePermissions: [
    ...['View', 'Browse', 'In Place Restore', 'Security Management'].map((p) => [MASTER, p] as const),
    ...['View', 'Browse', 'In Place Restore'].map((p) => [RESTORE, p] as const),
    [VIEW, 'View'] as const,
  ],
  memberships: [
    [100, 1],
    [200, 3],
  ] as const,
  userCompanies: [
    [1, 0],
    [2, 7],
    [3, 7],
    [4, 8],
  ] as const,
};
const g = grant;
const view = (grants: Grant[]) => new AuthzView({ ...base, grants });
const sub = { type: T.subclient, id: 34 };

describe('AuthzView', () => {
  it('gives the CommCell Master group everything, in every company', () => {
    const v = view([g(T.commcell, 0, 'group', 100, MASTER)]);
    expect(v.allowed(1, 'In Place Restore', sub)).toBe(true);
    expect(v.allowed(1, 'Security Management', { type: T.client, id: 50 })).toBe(true);
    expect(v.allowed(2, 'View', sub)).toBe(false);
  });

  it('inherits down each level of the tree, and not up', () => {
    for (const [type, id] of [
      [T.client, 30],
      [T.agent, 31],
      [T.instance, 32],
      [T.backupSet, 33],
      [T.subclient, 34],
    ] as const) {
      const v = view([g(type, id, 'user', 2, RESTORE)]);
      expect(v.allowed(2, 'Browse', sub), `granted on ${type}`).toBe(true);
      expect(v.allowed(2, 'Browse', { type: T.client, id: 30 }), `not above ${type}`).toBe(type === T.client);
    }
  });

  it('inherits through every client group a client is in', () => {
    for (const group of [20, 21]) {
      const v = view([g(T.clientGroup, group, 'user', 2, RESTORE)]);
      expect(v.allowed(2, 'In Place Restore', sub)).toBe(true);
      expect(v.allowed(2, 'In Place Restore', { type: T.plan, id: 40 })).toBe(false);
    }
  });

  it('inherits from the company to all its entities, through user groups too', () => {
    const v = view([g(T.company, 7, 'group', 200, VIEW)]);
    expect(v.allowed(3, 'View', sub)).toBe(true);
    expect(v.allowed(3, 'View', { type: T.plan, id: 40 })).toBe(true);
    expect(v.allowed(3, 'Browse', sub)).toBe(false);
    expect(v.allowed(2, 'View', sub)).toBe(false);
  });

  it("never lets a company's user reach outside its company, even when an association says so", () => {
    const v = view([
      g(T.commcell, 0, 'user', 2, MASTER),
      g(T.clientGroup, 10, 'user', 2, MASTER),
      g(T.client, 50, 'user', 2, MASTER),
      g(T.company, 8, 'user', 2, MASTER),
    ]);
    expect(v.allowed(2, 'View', { type: T.client, id: 50 })).toBe(false);
    expect(v.allowed(2, 'View', { type: T.clientGroup, id: 10 })).toBe(false);
    expect(v.allowed(2, 'View', { type: T.company, id: 8 })).toBe(false);
    // A grant on the CommCell does not reach into its own company either.
    expect(v.allowed(2, 'View', sub)).toBe(false);
  });

  it('answers false for unknown entities, a wrong type for an id, and unknown users', () => {
    const v = view([g(T.commcell, 0, 'group', 100, MASTER)]);
    expect(v.allowed(1, 'View', { type: T.client, id: 999 })).toBe(false);
    expect(v.allowed(1, 'View', { type: T.client, id: 34 })).toBe(false);
    expect(v.allowed(99, 'View', sub)).toBe(false);
  });

  it('answers false for a company or entity id that is not a whole number, or negative', () => {
    // A fractional company id once read into the middle of another company's slots.
    const v = view([g(T.client, 30, 'user', 1, VIEW), g(T.company, 7, 'user', 1, RESTORE)]);
    for (const id of [7.25, -3, -1, Number.NaN, 2 ** 31]) {
      for (const type of [T.company, T.client, T.subclient]) {
        const ref = { type, id };
        expect([v.allowed(1, 'View', ref), v.exists(ref), v.companyOf(ref)], `${type}:${id}`).toEqual([
          false,
          false,
          null,
        ]);
      }
    }
    expect([v.allowed(1.5, 'View', sub), v.companyOfUser(-2), v.companyOfUser(2.5)]).toEqual([false, null, null]);
    expect(v.allowed(1, 'View', { type: T.company, id: 7 })).toBe(true);
  });

  it('refuses a replacement holding an id it cannot hold, and is left as it was', () => {
    const v = view([g(T.client, 30, 'user', 2, VIEW)]);
    const company7 = {
      entities: entities.filter((e) => e.companyId === 7),
      clientGroups: base.clientGroups,
      rolePermissions: [],
      memberships: [[200, 3]] as const,
      // The association of user 2 revoked, in the same replacement as a user beyond the view's ids.
      grants: [],
    };
    for (const userCompanies of [
      [
        [2, 7],
        [2 ** 30, 7],
      ],
      [
        [2, 7],
        [1.5, 7],
      ],
    ] as Array<Array<[number, number]>>) {
      expect(() => v.replacePart(7, { ...company7, userCompanies })).toThrow(RangeError);
      // Nothing was taken out: the view is whole, as before the failed replacement.
      expect([v.allowed(2, 'View', sub), v.exists(sub), v.companyOfUser(3)]).toEqual([true, true, 7]);
    }
    expect(() =>
      v.replacePart(7, { ...company7, userCompanies: [], grants: [g(T.client, 30, 'user', 2, -1)] }),
    ).toThrow('the permission view holds role ids from 1 to 1073741823; got -1');
    v.replacePart(7, { ...company7, userCompanies: [[2, 7]] });
    expect(v.allowed(2, 'View', sub)).toBe(false);
  });

  it('explains which associations give a permission, nearest first', () => {
    const grants = [
      g(T.commcell, 0, 'group', 100, MASTER),
      g(T.clientGroup, 21, 'user', 3, RESTORE),
      g(T.backupSet, 33, 'group', 200, VIEW),
      g(T.agent, 31, 'user', 3, VIEW),
    ];
    const v = view(grants);
    expect(v.explain(3, 'View', sub)).toEqual({ allowed: true, grants: [grants[2], grants[3], grants[1]] });
    expect(v.explain(3, 'Browse', sub)).toEqual({ allowed: true, grants: [grants[1]] });
    expect(v.explain(3, 'Security Management', sub)).toEqual({ allowed: false, grants: [] });
    expect(v.explain(1, 'Security Management', sub).grants).toEqual([grants[0]]);
  });
});

// -- per-company parts --------------------------------------------------------

/** The whole permission model as the database holds it, small enough to compare views exhaustively. */
interface Estate {
  entities: Map<number, TreeEntity>;
  /** [client group, client] */
  pairs: Array<[number, number]>;
  /** Each association with its company, as security_associations.company_id. */
  grants: Array<{ g: Grant; company: number }>;
  roles: Map<number, { company: number; perms: Set<string> }>;
  /** user group → company */
  groups: Map<number, number>;
  /** [user group, user] */
  members: Array<[number, number]>;
  /** user → company */
  users: Map<number, number>;
  /** The last id handed out: like the database's sequences, ids are never reused. */
  seq: number;
}

const ENTITY_COMPANY = (e: Estate, g: Grant) =>
  g.entityType === T.commcell
    ? 0
    : g.entityType === T.company
      ? g.entityId
      : (e.entities.get(g.entityId)?.companyId ?? 0);

function fullInput(e: Estate): ViewInput {
  return {
    entities: [...e.entities.values()],
    clientGroups: e.pairs,
    grants: e.grants.map((x) => x.g),
    rolePermissions: [...e.roles].flatMap(([id, r]) => [...r.perms].map((p) => [id, p] as const)),
    memberships: e.members,
    userCompanies: [...e.users],
    roleCompanies: [...e.roles].map(([id, r]) => [id, r.company] as const),
    groupCompanies: [...e.groups],
  };
}

/** One company's part, by the rules the store's per-company loads follow. */
function partInput(e: Estate, c: number): ViewInput {
  return {
    entities: [...e.entities.values()].filter((x) => x.companyId === c),
    clientGroups: e.pairs.filter(([g]) => e.entities.get(g)?.companyId === c),
    grants: e.grants.filter((x) => x.company === c).map((x) => x.g),
    rolePermissions: [...e.roles]
      .filter(([, r]) => r.company === c)
      .flatMap(([id, r]) => [...r.perms].map((p) => [id, p] as const)),
    memberships: e.members.filter(([g]) => e.groups.get(g) === c),
    userCompanies: [...e.users].filter(([, company]) => company === c),
  };
}

const COMPANIES = [0, 1, 2, 3];
const NESTED = [T.agent, T.instance, T.backupSet, T.subclient];

function generate(rand: (n: number) => number): Estate {
  const e: Estate = {
    entities: new Map(),
    pairs: [],
    grants: [],
    roles: new Map(BUILTIN_ROLES.map((r) => [r.id, { company: 0, perms: new Set<string>(r.permissions) }])),
    groups: new Map(),
    members: [],
    users: new Map(),
    seq: 200,
  };
  for (const c of COMPANIES) {
    for (let i = 0; i < 2; i++) addClientGroup(e, c);
    for (let i = 0; i < 3; i++) addClient(e, c, rand);
    addEntity(e, { type: T.plan, companyId: c, parentId: null });
    for (let i = 0; i < 2; i++) e.groups.set(nextId(e), c);
    for (let i = 0; i < 3; i++) addUser(e, c, rand, true);
    addRole(e, c, rand);
  }
  for (let i = 0; i < 30; i++) addGrant(e, rand);
  return e;
}

const nextId = (e: Estate) => ++e.seq;
function addEntity(e: Estate, x: Omit<TreeEntity, 'id'>): number {
  const id = nextId(e);
  e.entities.set(id, { id, ...x });
  return id;
}
const addClientGroup = (e: Estate, c: number) => addEntity(e, { type: T.clientGroup, companyId: c, parentId: null });
function addClient(e: Estate, c: number, rand: (n: number) => number): void {
  let parent = addEntity(e, { type: T.client, companyId: c, parentId: null });
  const client = parent;
  for (const type of NESTED) parent = addEntity(e, { type, companyId: c, parentId: parent });
  const groups = [...e.entities.values()].filter((x) => x.type === T.clientGroup && x.companyId === c);
  for (const g of groups) if (rand(2) === 0) e.pairs.push([g.id, client]);
}
/** A user, in some groups of its company (and of the CommCell, which may hold a tenant user: that is the CommCell's part). */
function addUser(e: Estate, c: number, rand: (n: number) => number, commcellGroups: boolean): void {
  const id = nextId(e);
  e.users.set(id, c);
  for (const [g, gc] of e.groups) {
    if ((gc === c || (commcellGroups && gc === 0)) && rand(3) === 0) e.members.push([g, id]);
  }
}
function addRole(e: Estate, c: number, rand: (n: number) => number): void {
  const perms = new Set(PERMISSIONS.filter(() => rand(3) === 0));
  e.roles.set(nextId(e), { company: c, perms });
}
function pick<T>(list: readonly T[], rand: (n: number) => number): T | undefined {
  return list.length === 0 ? undefined : list[rand(list.length)];
}
/** An association that tenant confinement allows: principal and role of the entity's company or the CommCell. */
function addGrant(e: Estate, rand: (n: number) => number): number | null {
  // A third on the CommCell or a company, whose nodes are no entity's.
  const tops: EntityRef[] = [
    { type: T.commcell, id: 0 },
    ...COMPANIES.filter((c) => c !== 0).map((c) => ({ type: T.company, id: c })),
  ];
  const targets = rand(3) === 0 ? tops : [...e.entities.values()].map((x) => ({ type: x.type, id: x.id }));
  const ref = pick(targets, rand) as EntityRef;
  const g0: Grant = { entityType: ref.type, entityId: ref.id, principalKind: 'user', principalId: 0, roleId: 0 };
  const company = ENTITY_COMPANY(e, g0);
  const ok = (c: number) => c === 0 || c === company;
  const asGroup = rand(2) === 0;
  const principal = pick(
    [...(asGroup ? e.groups : e.users)].filter(([, c]) => ok(c)).map(([id]) => id),
    rand,
  );
  const role = pick(
    [...e.roles].filter(([, r]) => ok(r.company)).map(([id]) => id),
    rand,
  );
  if (principal === undefined || role === undefined) return null;
  const g: Grant = { ...g0, principalKind: asGroup ? 'group' : 'user', principalId: principal, roleId: role };
  if (e.grants.some((x) => JSON.stringify(x.g) === JSON.stringify(g))) return null;
  e.grants.push({ g, company });
  return company;
}
function subtree(e: Estate, id: number): Set<number> {
  const out = new Set([id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const x of e.entities.values()) {
      if (x.parentId !== null && out.has(x.parentId) && !out.has(x.id)) {
        out.add(x.id);
        grew = true;
      }
    }
  }
  return out;
}

/**
 * One random change, as a route makes it; returns the companies the route
 * bumps. Deletes leave behind what the database would keep pointing at a gone
 * user, group, role or entity in other companies only where the route does not
 * bump those companies: such rows must be inert.
 */
function mutate(e: Estate, rand: (n: number) => number): { what: string; companies: number[] } {
  const c = pick(COMPANIES, rand) as number;
  switch (rand(12)) {
    case 0: {
      // DELETE Entities: the subtree, its associations, its client-group memberships (FK cascade).
      const victim = pick(
        [...e.entities.values()].filter((x) => x.companyId === c),
        rand,
      );
      if (!victim) return { what: 'nothing', companies: [] };
      const gone = subtree(e, victim.id);
      for (const id of gone) e.entities.delete(id);
      e.pairs = e.pairs.filter(([g, cl]) => !gone.has(g) && !gone.has(cl));
      e.grants = e.grants.filter(
        (x) => x.g.entityType === T.commcell || x.g.entityType === T.company || !gone.has(x.g.entityId),
      );
      return { what: `delete entity ${victim.id}`, companies: [victim.companyId] };
    }
    case 1:
      addClient(e, c, rand);
      return { what: 'add client', companies: [c] };
    case 2: {
      const group = pick(
        [...e.groups].filter(([, gc]) => gc === c).map(([id]) => id),
        rand,
      );
      const user = pick(
        [...e.users].filter(([, uc]) => uc === c || c === 0).map(([id]) => id),
        rand,
      );
      if (group === undefined || user === undefined) return { what: 'nothing', companies: [] };
      const at = e.members.findIndex(([g, u]) => g === group && u === user);
      if (at >= 0) e.members.splice(at, 1);
      else e.members.push([group, user]);
      return { what: `toggle member ${user} of ${group}`, companies: [c] };
    }
    case 3:
    case 4: {
      const company = addGrant(e, rand);
      return company === null ? { what: 'nothing', companies: [] } : { what: 'grant', companies: [company] };
    }
    case 5: {
      const victim = pick(e.grants, rand);
      if (!victim) return { what: 'nothing', companies: [] };
      e.grants = e.grants.filter((x) => x !== victim);
      return { what: 'revoke', companies: [victim.company] };
    }
    case 6: {
      // POST Role/{id}, or a catalogue change to a built-in role: the role's company only.
      const id = pick([...e.roles.keys()], rand) as number;
      const role = e.roles.get(id) as { company: number; perms: Set<string> };
      const perm = pick(PERMISSIONS, rand) as string;
      if (role.perms.has(perm) && role.perms.size > 1) role.perms.delete(perm);
      else role.perms.add(perm);
      return { what: `role ${id} ${perm}`, companies: [role.company] };
    }
    case 7: {
      // DELETE Role/{id}: its associations go, wherever they were; only the role's company is bumped.
      const id = pick(
        [...e.roles.keys()].filter((r) => r > 100),
        rand,
      );
      if (id === undefined) return { what: 'nothing', companies: [] };
      const company = e.roles.get(id)?.company as number;
      e.roles.delete(id);
      e.grants = e.grants.filter((x) => x.g.roleId !== id);
      return { what: `delete role ${id}`, companies: [company] };
    }
    case 8: {
      // DELETE UserGroup/{id}: its memberships and associations go; only the group's company is bumped.
      const id = pick([...e.groups.keys()], rand);
      if (id === undefined) return { what: 'nothing', companies: [] };
      const company = e.groups.get(id) as number;
      e.groups.delete(id);
      e.members = e.members.filter(([g]) => g !== id);
      e.grants = e.grants.filter((x) => !(x.g.principalKind === 'group' && x.g.principalId === id));
      return { what: `delete group ${id}`, companies: [company] };
    }
    case 9: {
      // A user moves out of its company (or leaves): its memberships and associations there go.
      const id = pick([...e.users.keys()], rand);
      if (id === undefined) return { what: 'nothing', companies: [] };
      const from = e.users.get(id) as number;
      const to = rand(2) === 0 ? null : (pick(COMPANIES, rand) as number);
      if (to === null) e.users.delete(id);
      else e.users.set(id, to);
      e.members = e.members.filter(([g, u]) => u !== id || e.groups.get(g) !== from);
      e.grants = e.grants.filter(
        (x) => !(x.g.principalKind === 'user' && x.g.principalId === id && x.company === from),
      );
      // Memberships in CommCell groups and grants elsewhere stay: a user is only ever in its own company's.
      return { what: `move user ${id} ${from}→${to}`, companies: to === null ? [from] : [from, to] };
    }
    case 10: {
      const id = nextId(e);
      e.groups.set(id, c);
      // POST User adds a user to its own company's groups only.
      addUser(e, c, rand, false);
      addRole(e, c, rand);
      addClientGroup(e, c);
      return { what: 'new group, user, role, client group', companies: [c] };
    }
    default: {
      const groups = [...e.entities.values()].filter((x) => x.type === T.clientGroup && x.companyId === c);
      const clients = [...e.entities.values()].filter((x) => x.type === T.client && x.companyId === c);
      const g = pick(groups, rand);
      const cl = pick(clients, rand);
      if (!g || !cl) return { what: 'nothing', companies: [] };
      const at = e.pairs.findIndex(([pg, pc]) => pg === g.id && pc === cl.id);
      if (at >= 0) e.pairs.splice(at, 1);
      else e.pairs.push([g.id, cl.id]);
      return { what: `toggle client ${cl.id} in ${g.id}`, companies: [c] };
    }
  }
}

/** Enough permissions to tell roles apart (the roles are random sets of all of them). */
const CHECKED = ['View', 'Browse', 'In Place Restore', 'Security Management', 'Storage Management'] as const;

/**
 * Every answer the two views give, over every user and entity the estate ever
 * had (each entity id under its type and under a wrong one). Collects the
 * differences and compares once: an expect per answer would be slow.
 */
function expectSameAnswers(
  a: AuthzView,
  b: AuthzView,
  users: Iterable<number>,
  ids: ReadonlyMap<number, number>,
  why: string,
) {
  const refs: EntityRef[] = [
    { type: T.commcell, id: 0 },
    { type: T.commcell, id: 1 },
    ...COMPANIES.map((c) => ({ type: T.company, id: c })),
    { type: T.company, id: 99 },
  ];
  for (const [id, type] of ids) refs.push({ type, id }, { type: type === T.plan ? T.client : T.plan, id });
  const userList = [...users];
  const diffs: string[] = [];
  for (const ref of refs) {
    const at = `${ref.type}:${ref.id}`;
    if (a.companyOf(ref) !== b.companyOf(ref)) diffs.push(`companyOf ${at}`);
    if (a.exists(ref) !== b.exists(ref)) diffs.push(`exists ${at}`);
    for (const u of userList) {
      for (const perm of CHECKED) {
        const fresh = b.explain(u, perm, ref);
        if (b.allowed(u, perm, ref) !== fresh.allowed) diffs.push(`fresh allowed/explain ${u} ${perm} ${at}`);
        if (a.allowed(u, perm, ref) !== fresh.allowed) diffs.push(`allowed ${u} ${perm} ${at}`);
        if (JSON.stringify(a.explain(u, perm, ref)) !== JSON.stringify(fresh)) diffs.push(`explain ${u} ${perm} ${at}`);
      }
    }
  }
  for (const u of userList) if (a.companyOfUser(u) !== b.companyOfUser(u)) diffs.push(`companyOfUser ${u}`);
  expect(diffs.slice(0, 10), why).toEqual([]);
}

describe('AuthzView tree reads', () => {
  const v = view([]);
  it("entitiesOf: a company's entities of one type, in id order, and nothing of another company", () => {
    expect(v.entitiesOf(7, T.clientGroup)).toEqual([20, 21]);
    expect(v.entitiesOf(7, T.client)).toEqual([30]);
    expect(v.entitiesOf(8, T.client)).toEqual([50]);
    expect(v.entitiesOf(0, T.clientGroup)).toEqual([10]);
    expect(v.entitiesOf(0, T.client)).toEqual([]);
    expect(v.entitiesOf(9, T.client)).toEqual([]);
    expect(v.entitiesOf(7, T.subclient)).toEqual([34]);
  });

  it('descendantsOf: at any depth beneath, never the entity itself, above it or beside it', () => {
    for (const [type, id] of [
      [T.client, 30],
      [T.agent, 31],
      [T.instance, 32],
      [T.backupSet, 33],
    ] as const) {
      expect(v.descendantsOf({ type, id }, T.subclient), `beneath ${type}`).toEqual([34]);
    }
    expect(v.descendantsOf({ type: T.client, id: 30 }, T.backupSet)).toEqual([33]);
    expect(v.descendantsOf({ type: T.subclient, id: 34 }, T.subclient)).toEqual([]);
    expect(v.descendantsOf({ type: T.backupSet, id: 33 }, T.client)).toEqual([]);
    expect(v.descendantsOf({ type: T.client, id: 50 }, T.subclient)).toEqual([]);
    // A client group holds clients by membership, not by parentage.
    expect(v.descendantsOf({ type: T.clientGroup, id: 20 }, T.client)).toEqual([]);
  });

  it('descendantsOf: a wrong type for an id, an unknown id, a company or the CommCell give nothing', () => {
    expect(v.descendantsOf({ type: T.agent, id: 30 }, T.subclient)).toEqual([]);
    expect(v.descendantsOf({ type: T.client, id: 999 }, T.subclient)).toEqual([]);
    expect(v.descendantsOf({ type: T.company, id: 7 }, T.subclient)).toEqual([]);
    expect(v.descendantsOf({ type: T.commcell, id: 0 }, T.client)).toEqual([]);
  });

  it('ancestorOf: the entity itself or its nearest ancestor of a type, else null', () => {
    expect(v.ancestorOf(sub, T.client)).toEqual({ id: 30, type: T.client, companyId: 7, parentId: null, name: '' });
    expect(v.ancestorOf(sub, T.agent)?.id).toBe(31);
    expect(v.ancestorOf({ type: T.backupSet, id: 33 }, T.backupSet)?.id).toBe(33);
    expect(v.ancestorOf({ type: T.agent, id: 31 }, T.subclient)).toBeNull();
    expect(v.ancestorOf({ type: T.agent, id: 34 }, T.client)).toBeNull();
    expect(v.ancestorOf({ type: T.subclient, id: 999 }, T.client)).toBeNull();
    expect(v.ancestorOf({ type: T.company, id: 7 }, T.client)).toBeNull();
  });

  it('follows a replaced part: a moved or removed entity reads from its new place', () => {
    const w = view([]);
    w.replacePart(7, {
      ...base,
      grants: [],
      entities: entities.filter((e) => e.companyId === 7 && e.id !== 34),
    });
    expect(w.descendantsOf({ type: T.client, id: 30 }, T.subclient)).toEqual([]);
    expect(w.ancestorOf(sub, T.client)).toBeNull();
    expect(w.entitiesOf(7, T.subclient)).toEqual([]);
  });
});

describe('AuthzView parts', () => {
  it('replacing only the changed companies gives the answers of a fresh build, change after change', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = rng(seed);
      const estate = generate(rand);
      const live = new AuthzView(fullInput(estate));
      const everUsers = new Set(estate.users.keys());
      const everIds = new Map([...estate.entities.values()].map((x) => [x.id, x.type]));
      for (let step = 0; step < 40; step++) {
        const { what, companies } = mutate(estate, rand);
        for (const u of estate.users.keys()) everUsers.add(u);
        for (const x of estate.entities.values()) everIds.set(x.id, x.type);
        live.replaceParts(new Map(companies.map((c) => [c, partInput(estate, c)])));
        if (step % 4 === 3 || what.startsWith('delete') || what.startsWith('move') || what.startsWith('role')) {
          const fresh = new AuthzView(fullInput(estate));
          expectSameAnswers(live, fresh, everUsers, everIds, `seed ${seed} step ${step} (${what})`);
        }
      }
    }
  });

  it('stays right through crowded nodes, users and clients in many groups, and the pool compacting', () => {
    // Far more associations than nodes: many nodes get more holders than a flat list keeps,
    // and every change rewrites many lists, so the check's list pool fills with garbage.
    const compact = vi.spyOn(ListPool.prototype, 'compact');
    const rand = rng(11);
    const estate = generate(rand);
    for (let i = 0; i < 400; i++) addGrant(estate, rand);
    const crowded = new Map<number, number>();
    for (const { g } of estate.grants) crowded.set(g.entityId, (crowded.get(g.entityId) ?? 0) + 1);
    expect(Math.max(...crowded.values())).toBeGreaterThan(8);
    const live = new AuthzView(fullInput(estate));
    const everUsers = new Set(estate.users.keys());
    const everIds = new Map([...estate.entities.values()].map((x) => [x.id, x.type]));
    for (let step = 0; step < 400; step++) {
      const { what, companies } = mutate(estate, rand);
      if (rand(2) === 0) addGrant(estate, rand);
      for (const u of estate.users.keys()) everUsers.add(u);
      for (const x of estate.entities.values()) everIds.set(x.id, x.type);
      // Every company reloaded, as after a bulk change: each reload rewrites all its lists.
      const compactions = compact.mock.calls.length;
      live.replaceParts(new Map(COMPANIES.map((c) => [c, partInput(estate, c)])));
      // Right after each compaction (every list must have moved), and now and then.
      if (compact.mock.calls.length > compactions || step % 50 === 49) {
        expectSameAnswers(
          live,
          new AuthzView(fullInput(estate)),
          everUsers,
          everIds,
          `step ${step} (${what}, ${companies})`,
        );
      }
    }
    expect(compact.mock.calls.length).toBeGreaterThan(1);
    compact.mockRestore();
  });

  it('builds the same view from one input as from per-company parts', () => {
    const estate = generate(rng(9));
    const whole = new AuthzView(fullInput(estate));
    const parts = AuthzView.fromParts(new Map(COMPANIES.map((c) => [c, partInput(estate, c)])));
    expect(parts.companies().sort()).toEqual(COMPANIES);
    expectSameAnswers(
      parts,
      whole,
      estate.users.keys(),
      new Map([...estate.entities.values()].map((x) => [x.id, x.type])),
      'from parts',
    );
  });

  it("follows a built-in role's change for grants in every company, reloading only the CommCell's part", () => {
    const v = new AuthzView({ ...base, grants: [g(T.client, 30, 'user', 2, VIEW)] });
    expect(v.allowed(2, 'Browse', sub)).toBe(false);
    // Role 5 (View) belongs to the CommCell: its part, with the permissions changed.
    v.replacePart(0, {
      entities: entities.filter((e) => e.companyId === 0),
      clientGroups: [],
      grants: [],
      rolePermissions: [...base.rolePermissions.filter(([r]) => r !== VIEW), [VIEW, 'View'], [VIEW, 'Browse']],
      memberships: [[100, 1]],
      userCompanies: [[1, 0]],
    });
    expect(v.allowed(2, 'Browse', sub)).toBe(true);
    expect(v.explain(2, 'Browse', sub).grants).toEqual([g(T.client, 30, 'user', 2, VIEW)]);
  });

  it('holds the names replies need, and a replaced part takes its old names out', () => {
    const named = new AuthzView({
      ...base,
      entities: entities.map((e) => ({ ...e, name: `e${e.id}` })),
      grants: [],
      userCompanies: [
        [1, 0, 'admin'],
        [2, 7, 'ann'],
      ],
      groupNames: [
        [100, 'master'],
        [200, 'crew'],
      ],
      groupCompanies: [
        [100, 0],
        [200, 7],
      ],
      roleNames: [
        [MASTER, 'Master'],
        [RESTORE, 'Restore Operator'],
      ],
    });
    expect(named.entity({ type: T.agent, id: 31 })).toEqual({
      id: 31,
      type: T.agent,
      companyId: 7,
      parentId: 30,
      name: 'e31',
    });
    expect(named.entity({ type: T.client, id: 31 })).toBeNull();
    expect(named.entity({ type: T.company, id: 7 })).toBeNull();
    expect(named.clientGroupsOf(30)).toEqual([20, 21]);
    expect([named.userName(2), named.groupName(200), named.roleName(RESTORE)]).toEqual([
      'ann',
      'crew',
      'Restore Operator',
    ]);
    named.replacePart(7, {
      entities: [{ id: 30, type: T.client, companyId: 7, parentId: null, name: 'renamed' }],
      clientGroups: [],
      grants: [],
      rolePermissions: [],
      memberships: [],
      userCompanies: [],
    });
    expect(named.entity({ type: T.client, id: 30 })?.name).toBe('renamed');
    expect(named.entity({ type: T.agent, id: 31 })).toBeNull();
    expect(named.clientGroupsOf(30)).toEqual([]);
    expect([named.userName(2), named.groupName(200)]).toEqual([undefined, undefined]);
    // Other companies' names stay.
    expect([named.userName(1), named.groupName(100), named.roleName(MASTER)]).toEqual(['admin', 'master', 'Master']);
  });

  it("drops a company's entities, grants, memberships and users when its part is emptied", () => {
    const grants = [g(T.company, 7, 'group', 200, VIEW), g(T.client, 50, 'user', 4, VIEW)];
    const v = new AuthzView({ ...base, grants });
    expect(v.allowed(3, 'View', sub)).toBe(true);
    expect(v.companyOfUser(3)).toBe(7);
    v.replacePart(7, {
      entities: [],
      clientGroups: [],
      grants: [],
      rolePermissions: [],
      memberships: [],
      userCompanies: [],
    });
    expect(v.exists(sub)).toBe(false);
    expect(v.companyOfUser(3)).toBeNull();
    expect(v.allowed(3, 'View', { type: T.company, id: 7 })).toBe(false);
    // Company 8 untouched.
    expect(v.allowed(4, 'View', { type: T.client, id: 50 })).toBe(true);
    expect(v.companies().sort()).toEqual([0, 8]);
  });
});
