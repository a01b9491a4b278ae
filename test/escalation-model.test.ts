import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../src/audit/verify.js';
import { PERMISSIONS, type Permission } from '../src/domain/catalogue.js';
import { COMMCELL_REF, companyEntity, helpers, PW, type Ref } from './escalation-support.js';
import { ADMIN_PASSWORD, b64, startApp, type TestApp } from './harness.js';

// The no-escalation rules tested as rules, not examples (after SpiceDB's and
// OpenFGA's model tests): random sequences of the security-changing calls, by
// random principals, over a small estate. After every step:
// - no principal holds a permission on an entity that the caller did not
//   hold there before the step;
// - a call that took control of a principal (its password, enabling, its
//   memberships, renaming or deleting a group) succeeded only for a caller
//   that held everything that principal held;
// - the CommCell keeps an enabled user holding Master on it;
// - Explain agrees with the permission view;
// - nothing answers 5xx; and at the end the audit chain verifies.
// BULWARK_MODEL_RUNS sets how many sequences (each on a fresh estate).

const RUNS = Number(process.env.BULWARK_MODEL_RUNS ?? 8);
const STEPS = 14;

const USERS = ['admin', 'cellum', 'cellsec', 'acme\\tadmin', 'acme\\um', 'acme\\op'] as const;
const GROUPS = ['master', 'ops', 'acme\\Tenant Admin', 'acme\\Tenant Users', 'acme\\helpers'] as const;
const ROLES = ['Master', 'Tenant Admin', 'Tenant Operator', 'Restore Operator', 'View', 'HelpDesk', 'UM'] as const;
const CUSTOM_ROLES = ['HelpDesk', 'UM'] as const;

interface Estate {
  users: Map<string, number>;
  groups: Map<string, number>;
  roles: Map<string, number>;
  entities: Ref[];
  passwords: Map<string, string>;
  tokens: Map<string, string>;
}

async function buildEstate(t: TestApp): Promise<Estate> {
  const h = helpers(t);
  const admin = await t.login();
  const acme = await t.call('POST', '/Organization', admin, {
    organizationInfo: {
      organization: { connectName: 'Acme', emailDomainNames: ['acme.example'], shortName: { domainName: 'acme' } },
      organizationProperties: { primaryContacts: [] },
    },
  });
  const acmeId = acme.json().response.entity.providerId as number;
  const users = new Map<string, number>([['admin', 1]]);
  await h.role(admin, 'HelpDesk', ['View', 'User Management']);
  users.set('cellum', await h.user(admin, 'cellum'));
  users.set('cellsec', await h.user(admin, 'cellsec'));
  users.set('acme\\tadmin', await h.user(admin, 'acme\\tadmin', ['Tenant Admin']));
  users.set('acme\\um', await h.user(admin, 'acme\\um'));
  users.set('acme\\op', await h.user(admin, 'acme\\op', ['Tenant Users']));
  const tadmin = await t.login('acme\\tadmin', PW);
  await h.role(tadmin, 'UM', ['View', 'User Management']);
  const c1 = await h.entity(admin, 'client', 'c1');
  const a1 = await h.entity(admin, 'client', 'a1', 'acme');
  const plan = await h.entity(admin, 'plan', 'aplan', 'acme');
  const entities: Ref[] = [
    COMMCELL_REF,
    companyEntity(acmeId),
    { type: 3, id: c1 },
    { type: 3, id: a1 },
    { type: 158, id: plan },
  ];
  const ok = async (res: Promise<{ json(): { response: Array<{ errorCode: number }> } }>) =>
    expect((await res).json().response[0]?.errorCode).toBe(0);
  await ok(h.security(admin, 'ADD', COMMCELL_REF, [[{ userName: 'cellum' }, 'HelpDesk']]));
  await ok(h.security(admin, 'ADD', companyEntity(acmeId), [[{ userName: 'cellsec' }, 'Tenant Admin']]));
  await ok(h.security(tadmin, 'ADD', companyEntity(acmeId), [[{ userName: 'acme\\um' }, 'UM']]));
  await ok(h.security(admin, 'ADD', { type: 3, id: a1 }, [[{ userName: 'acme\\op' }, 'Tenant Operator']]));
  const group = async (token: string, name: string) => {
    const res = await t.call('POST', '/UserGroup', token, { groups: [{ userGroupEntity: { userGroupName: name } }] });
    expect(res.json().response[0].errorCode, res.body).toBe(0);
  };
  await group(admin, 'ops');
  await group(tadmin, 'helpers');
  await ok(h.security(admin, 'ADD', { type: 3, id: c1 }, [[{ userGroupName: 'ops' }, 'Tenant Operator']]));
  const groups = new Map<string, number>();
  for (const g of GROUPS) groups.set(g, await h.groupId(admin, g));
  const roleList = (await t.call('GET', '/Security/Roles', admin)).json().roleProperties as Array<{
    role: { roleId: number; roleName: string };
  }>;
  const roles = new Map(roleList.map((r) => [r.role.roleName, r.role.roleId]));
  const passwords = new Map<string, string>(USERS.map((u) => [u, u === 'admin' ? ADMIN_PASSWORD : PW]));
  return { users, groups, roles, entities, passwords, tokens: new Map([['admin', admin]]) };
}

/** What the store says, read before a step: to judge the step against. */
async function snapshot(t: TestApp, e: Estate) {
  const view = await t.ctx.authz.current();
  const held = new Map<string, boolean>();
  for (const [, id] of e.users) {
    for (const ref of e.entities) {
      for (const p of PERMISSIONS) held.set(`${id}|${ref.type}:${ref.id}|${p}`, view.allowed(id, p, ref));
    }
  }
  const db = t.store.db;
  const associations = await db
    .selectFrom('security_associations')
    .select(['entity_type', 'entity_id', 'principal_kind', 'principal_id', 'role_id'])
    .execute();
  const members = await db.selectFrom('user_group_members').select(['group_id', 'user_id']).execute();
  const rolePerms = await db.selectFrom('role_permissions').select(['role_id', 'permission']).execute();
  const users = await db.selectFrom('users').select(['id', 'company_id', 'enabled', 'password_hash']).execute();
  const entityCompany = new Map<string, number>();
  for (const ref of e.entities) entityCompany.set(`${ref.type}:${ref.id}`, view.companyOf(ref) ?? -1);
  return { held, associations, members, rolePerms, users, entityCompany };
}
type Snapshot = Awaited<ReturnType<typeof snapshot>>;

const holds = (s: Snapshot, userId: number, ref: string, p: Permission) => s.held.get(`${userId}|${ref}|${p}`) === true;

/** Everything a principal holds, read from the rows (not from the code under test): "type:id|permission". */
function holdingsOf(s: Snapshot, kind: 'user' | 'group', id: number): Set<string> {
  const perms = (role: number) => s.rolePerms.filter((r) => r.role_id === role).map((r) => r.permission);
  const out = new Set<string>();
  const groupIds = kind === 'group' ? [id] : s.members.filter((m) => m.user_id === id).map((m) => m.group_id);
  const company = kind === 'user' ? (s.users.find((u) => u.id === id)?.company_id ?? 0) : 0;
  for (const a of s.associations) {
    const mine =
      (kind === 'user' && a.principal_kind === 'user' && a.principal_id === id) ||
      (a.principal_kind === 'group' && groupIds.includes(a.principal_id));
    if (!mine) continue;
    const ref = `${a.entity_type}:${a.entity_id}`;
    // A company's user holds nothing outside its company.
    if (company !== 0 && s.entityCompany.get(ref) !== company) continue;
    for (const p of perms(a.role_id)) out.add(`${ref}|${p}`);
  }
  return out;
}

type Action =
  | { kind: 'member'; actor: number; group: number; user: number; op: 2 | 3 }
  | {
      kind: 'groupAssoc';
      actor: number;
      group: number;
      op: 'ADD' | 'OVERWRITE' | 'DELETE';
      entity: number;
      role: number;
      empty: boolean;
    }
  | {
      kind: 'security';
      actor: number;
      op: 'ADD' | 'OVERWRITE' | 'DELETE';
      entity: number;
      principal: number;
      role: number;
      empty: boolean;
    }
  | { kind: 'password'; actor: number; user: number }
  | { kind: 'enable'; actor: number; user: number; on: boolean }
  | { kind: 'deleteGroup'; actor: number; group: number }
  | { kind: 'rename'; actor: number; group: number }
  | { kind: 'rolePerm'; actor: number; role: number; perm: number; op: 2 | 3 }
  | { kind: 'deleteRole'; actor: number; role: number };

const ix = (n: number) => fc.integer({ min: 0, max: n - 1 });
const assocOp = fc.constantFrom('ADD' as const, 'OVERWRITE' as const, 'DELETE' as const);
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    kind: fc.constant('member' as const),
    actor: ix(USERS.length),
    group: ix(GROUPS.length),
    user: ix(USERS.length),
    op: fc.constantFrom(2 as const, 3 as const),
  }),
  fc.record({
    kind: fc.constant('groupAssoc' as const),
    actor: ix(USERS.length),
    group: ix(GROUPS.length),
    op: assocOp,
    entity: ix(5),
    role: ix(ROLES.length),
    empty: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('security' as const),
    actor: ix(USERS.length),
    op: assocOp,
    entity: ix(5),
    principal: ix(USERS.length + GROUPS.length),
    role: ix(ROLES.length),
    empty: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('password' as const), actor: ix(USERS.length), user: ix(USERS.length) }),
  fc.record({
    kind: fc.constant('enable' as const),
    actor: ix(USERS.length),
    user: ix(USERS.length),
    on: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('deleteGroup' as const), actor: ix(USERS.length), group: ix(GROUPS.length) }),
  fc.record({ kind: fc.constant('rename' as const), actor: ix(USERS.length), group: ix(GROUPS.length) }),
  fc.record({
    kind: fc.constant('rolePerm' as const),
    actor: ix(USERS.length),
    role: ix(CUSTOM_ROLES.length),
    perm: ix(PERMISSIONS.length),
    op: fc.constantFrom(2 as const, 3 as const),
  }),
  fc.record({ kind: fc.constant('deleteRole' as const), actor: ix(USERS.length), role: ix(CUSTOM_ROLES.length) }),
);

/** Whether every result of a reply is a success. */
function succeeded(body: Record<string, unknown>): boolean {
  const results = (body.response as Array<{ errorCode?: number }> | undefined) ?? [];
  return (body.errorCode ?? 0) === 0 && results.every((r) => (r.errorCode ?? 0) === 0);
}

async function tokenOf(t: TestApp, e: Estate, name: string): Promise<string | null> {
  const known = e.tokens.get(name);
  if (known && (await t.call('GET', '/WhoAmI', known)).statusCode === 200) return known;
  // No failed logins on purpose: they would count toward the address's throttle.
  const row = await t.store.db
    .selectFrom('users')
    .select('enabled')
    .where('id', '=', e.users.get(name) as number)
    .executeTakeFirst();
  if (row?.enabled !== 1) return null;
  try {
    const token = await t.login(name, e.passwords.get(name));
    e.tokens.set(name, token);
    return token;
  } catch {
    return null; // disabled, or locked out
  }
}

describe('the no-escalation rules over random call sequences', () => {
  it('hold after every step, whoever calls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: STEPS }), async (actions) => {
        const t = await startApp();
        try {
          const e = await buildEstate(t);
          for (const a of actions) await step(t, e, a);
          expect((await verifyAudit(t.store.db)).problems).toEqual([]);
        } finally {
          await t.close();
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);
});

async function step(t: TestApp, e: Estate, a: Action): Promise<void> {
  const actorName = USERS[a.actor] as string;
  const token = await tokenOf(t, e, actorName);
  if (!token) return; // the actor cannot log in (disabled): nothing it can call
  const actorId = e.users.get(actorName) as number;
  const before = await snapshot(t, e);
  const h = helpers(t);
  const ref = 'entity' in a ? (e.entities[a.entity] as Ref) : null;
  const role = 'role' in a && a.kind !== 'rolePerm' && a.kind !== 'deleteRole' ? (ROLES[a.role] as string) : '';
  /** Principals whose control the call takes, if it succeeds. */
  const controlled: Array<{ kind: 'user' | 'group'; id: number }> = [];
  let res: Awaited<ReturnType<TestApp['call']>>;
  switch (a.kind) {
    case 'member': {
      const g = e.groups.get(GROUPS[a.group] as string) as number;
      const u = e.users.get(USERS[a.user] as string) as number;
      controlled.push({ kind: 'group', id: g });
      res = await h.members(token, g, a.op, [{ userId: u }]);
      // The member is controlled only when its membership actually changed.
      const isIn = (s: Snapshot) => s.members.some((m) => m.group_id === g && m.user_id === u);
      if (isIn(before) !== isIn(await snapshot(t, e))) controlled.push({ kind: 'user', id: u });
      break;
    }
    case 'groupAssoc': {
      const g = e.groups.get(GROUPS[a.group] as string) as number;
      controlled.push({ kind: 'group', id: g });
      const r = ref as Ref;
      const associations = a.empty
        ? []
        : [
            {
              entities: { entity: [{ entityType: r.type, entityId: r.id, _type_: 150 }] },
              properties: { role: { roleName: role } },
            },
          ];
      res = await t.call('POST', `/UserGroup/${g}`, token, {
        groups: [{ securityAssociations: { associationsOperationType: a.op, associations } }],
      });
      break;
    }
    case 'security': {
      const who =
        a.principal < USERS.length
          ? { userId: e.users.get(USERS[a.principal] as string) }
          : { userGroupId: e.groups.get(GROUPS[a.principal - USERS.length] as string) };
      res = await h.security(token, a.op, ref as Ref, a.empty && a.op === 'OVERWRITE' ? [] : [[who, role]]);
      break;
    }
    case 'password': {
      const name = USERS[a.user] as string;
      const u = e.users.get(name) as number;
      controlled.push({ kind: 'user', id: u });
      const next = `New-${Math.random().toString(36).slice(2)}-Pw1!`;
      res = await t.call('POST', `/User/${u}`, token, {
        users: [{ password: b64(next), validationParameters: { password: b64(e.passwords.get(actorName) as string) } }],
      });
      if (res.json().errorCode === 0) e.passwords.set(name, next);
      break;
    }
    case 'enable': {
      const u = e.users.get(USERS[a.user] as string) as number;
      controlled.push({ kind: 'user', id: u });
      res = await t.call('POST', `/User/${u}`, token, { users: [{ enableUser: a.on }] });
      break;
    }
    case 'deleteGroup': {
      const g = e.groups.get(GROUPS[a.group] as string) as number;
      controlled.push({ kind: 'group', id: g });
      res = await t.call('DELETE', `/UserGroup/${g}`, token);
      break;
    }
    case 'rename': {
      const g = e.groups.get(GROUPS[a.group] as string) as number;
      controlled.push({ kind: 'group', id: g });
      res = await t.call('POST', `/UserGroup/${g}`, token, { groups: [{ description: `by ${actorName}` }] });
      break;
    }
    case 'rolePerm': {
      const id = e.roles.get(CUSTOM_ROLES[a.role] as string) as number;
      res = await t.call('POST', `/Role/${id}`, token, {
        roles: [
          {
            categoryPermission: {
              categoriesPermissionOperationType: a.op,
              categoriesPermissionList: [{ permissionName: PERMISSIONS[a.perm] }],
            },
          },
        ],
      });
      break;
    }
    case 'deleteRole': {
      const id = e.roles.get(CUSTOM_ROLES[a.role] as string) as number;
      res = await t.call('DELETE', `/Role/${id}`, token);
      break;
    }
  }
  const label = `${JSON.stringify(a)} by ${actorName}: ${res.body.slice(0, 300)}`;
  expect(res.statusCode, label).toBeLessThan(500);
  const after = await snapshot(t, e);
  const ok = res.statusCode === 200 && succeeded(res.json());

  // No escalation: whatever anyone holds now and did not before, the caller held before.
  for (const [key, now] of after.held) {
    if (!now || before.held.get(key)) continue;
    const [, refKey, perm] = key.split('|') as [string, string, Permission];
    expect(holds(before, actorId, refKey, perm), `${label}\ngave ${key}, which the caller lacked`).toBe(true);
  }
  // Control only over principals the caller dominated.
  if (ok) {
    for (const target of controlled) {
      if (target.kind === 'user' && target.id === actorId) continue;
      for (const held of holdingsOf(before, target.kind, target.id)) {
        const [refKey, perm] = held.split('|') as [string, Permission];
        expect(
          holds(before, actorId, refKey, perm),
          `${label}\ncontrolled ${target.kind} ${target.id} holding ${held}`,
        ).toBe(true);
      }
    }
  }
  // The CommCell keeps an enabled Master.
  const view = await t.ctx.authz.current();
  const masters = after.users.filter(
    (u) => u.company_id === 0 && u.enabled === 1 && PERMISSIONS.every((p) => view.allowed(u.id, p, COMMCELL_REF)),
  );
  expect(masters.length, `${label}\nno enabled Master left`).toBeGreaterThan(0);
  // Explain agrees with the view, asked by a Master on duty.
  const master = [...e.users].find(([, id]) => id === masters[0]?.id)?.[0] as string;
  const masterToken = await tokenOf(t, e, master);
  expect(masterToken, `${master} must be able to log in`).not.toBeNull();
  const subject = e.users.get(USERS[a.actor] as string) as number;
  for (const r of e.entities) {
    const perm: Permission = 'Security Management';
    const answer = await h.explain(masterToken as string, subject, r, perm);
    expect(answer.allowed, `${label}\nExplain ${subject} ${r.type}:${r.id}`).toBe(view.allowed(subject, perm, r));
  }
}
