import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, makeTenant, startApp, type TestApp } from '../../test/harness.js';
import type { AuthzView, EntityRef } from '../domain/authz.js';
import { ENTITY_TYPES as T } from '../domain/catalogue.js';
import { bumpAuthzVersion, grant, loadAuthzView } from '../store/authz.js';
import type { Store } from '../store/db.js';
import { addMember, createUser } from '../store/directory.js';
import { AuthzService } from './service.js';

// Two "nodes" on one database: the app's own AuthzService, and a second one
// that only ever learns of changes through the version row and authz_parts.
// After each change made through the routes, the second node's view must give
// exactly the answers of a fresh full load, having reloaded only the parts of
// the companies the change touched: a company missing from a route's bump
// shows up here as a stale answer.

let t: TestApp;
let admin: string;
let other: Store;
let node2: AuthzService;

beforeAll(async () => {
  t = await startApp();
  admin = await t.login();
  other = t.db.reopen();
  node2 = new AuthzService(other);
});
afterAll(async () => {
  await t.close();
});

const CHECKED = ['View', 'Browse', 'In Place Restore', 'Security Management', 'User Management'] as const;

async function refsAndUsers(): Promise<{ refs: EntityRef[]; users: number[] }> {
  const db = t.store.db;
  const entities = await db.selectFrom('entities').select(['id', 'type']).execute();
  const companies = await db.selectFrom('companies').select('id').execute();
  const users = await db.selectFrom('users').select('id').execute();
  return {
    refs: [
      ...entities.map((e) => ({ type: e.type, id: e.id })),
      ...companies.map((c) => (c.id === 0 ? { type: T.commcell, id: 0 } : { type: T.company, id: c.id })),
    ],
    users: users.map((u) => u.id),
  };
}

/** Every answer of `view` against a fresh full load; the differences, at most ten. */
async function differences(view: AuthzView): Promise<string[]> {
  const fresh = await loadAuthzView(t.store.db);
  const { refs, users } = await refsAndUsers();
  const out: string[] = [];
  for (const ref of refs) {
    if (view.companyOf(ref) !== fresh.companyOf(ref)) out.push(`companyOf ${ref.type}:${ref.id}`);
    for (const u of users) {
      for (const perm of CHECKED) {
        if (view.allowed(u, perm, ref) !== fresh.allowed(u, perm, ref)) out.push(`${u} ${perm} ${ref.type}:${ref.id}`);
      }
    }
  }
  for (const u of users) {
    if (view.companyOfUser(u) !== fresh.companyOfUser(u)) out.push(`companyOfUser ${u}`);
    if (view.userName(u) !== fresh.userName(u)) out.push(`userName ${u}`);
  }
  // What replies are built from: every entity, group and role as stored.
  const db = t.store.db;
  for (const e of await db.selectFrom('entities').select(['id', 'type', 'company_id', 'parent_id', 'name']).execute()) {
    const want = { id: e.id, type: e.type, companyId: e.company_id, parentId: e.parent_id, name: e.name };
    if (JSON.stringify(view.entity(e)) !== JSON.stringify(want)) out.push(`entity ${e.id}`);
  }
  for (const g of await db.selectFrom('user_groups').select(['id', 'name']).execute()) {
    if (view.groupName(g.id) !== g.name) out.push(`groupName ${g.id}`);
  }
  for (const r of await db.selectFrom('roles').select(['id', 'name']).execute()) {
    if (view.roleName(r.id) !== r.name) out.push(`roleName ${r.id}`);
  }
  for (const u of await db.selectFrom('users').select(['id', 'user_name']).execute()) {
    if (view.userName(u.id) !== u.user_name) out.push(`userName ${u.id}`);
  }
  return out.slice(0, 10);
}

/** Node 2 catches up, by reloading exactly `parts` (or everything for 'all'), and agrees with a fresh load. */
async function expectNode2(parts: number[] | 'all', why: string) {
  const before = { ...node2.stats };
  const view = await node2.current();
  if (parts === 'all') {
    expect(node2.stats.fullLoads, `${why}: full reload`).toBe(before.fullLoads + 1);
  } else {
    expect(node2.stats.fullLoads, `${why}: no full reload`).toBe(before.fullLoads);
    expect(node2.stats.partLoads, `${why}: one partial reload`).toBe(before.partLoads + 1);
    expect(node2.stats.lastParts, `${why}: parts reloaded`).toEqual(parts);
  }
  expect(await differences(view), why).toEqual([]);
}

const ok = (res: { json(): any; body: string }) => {
  const body = res.json();
  const code = body.errorCode ?? body.response?.[0]?.errorCode ?? body.response?.errorCode ?? 0;
  expect(typeof code === 'number' ? code : 0, res.body).toBe(0);
  return body;
};

describe('per-company reloads across two nodes', () => {
  it('each route reloads only the companies it changed, and the other node answers as a fresh load', async () => {
    await node2.current();
    const acme = await makeTenant(t, admin, 'acme');
    const beta = await makeTenant(t, admin, 'beta');
    // Organization and user creation: whatever node 2 reloads, it agrees.
    expect(await differences(await node2.current())).toEqual([]);

    // A tenant's entities (import and POST Entities), then an association on them.
    ok(
      await t.inject({
        method: 'POST',
        url: '/commandcenter/api/Entities/Import',
        headers: { authtoken: acme.token, 'content-type': 'application/x-ndjson', accept: 'application/json' },
        payload: [
          { type: 'clientGroup', name: 'g1' },
          { type: 'client', name: 'c1', clientGroups: ['g1'] },
          { type: 'agent', name: 'fs', parent: { type: 'client', name: 'c1' } },
        ]
          .map((l) => JSON.stringify(l))
          .join('\n'),
      }),
    );
    await expectNode2([acme.companyId], 'import');
    const c2 = ok(await t.call('POST', '/Entities', acme.token, { type: 'client', name: 'c2', clientGroups: ['g1'] }));
    const c2Id = c2.entity.entityId as number;
    await expectNode2([acme.companyId], 'POST Entities');
    const worker = ok(
      await t.call('POST', '/User', acme.token, {
        users: [{ userEntity: { userName: 'worker' }, password: b64('Worker-Passw0rd!') }],
      }),
    ).response[0].entity.userId as number;
    await expectNode2([acme.companyId], 'POST User in a company');
    ok(
      await t.call('POST', '/Security', acme.token, {
        entityAssociated: { entity: [{ clientGroupId: (await entityId('g1')) as number }] },
        securityAssociations: {
          associationsOperationType: 'ADD',
          associations: [{ userOrGroup: [{ userId: worker }], properties: { role: { roleName: 'View' } } }],
        },
      }),
    );
    await expectNode2([acme.companyId], 'POST Security');
    expect((await node2.current()).allowed(worker, 'View', { type: T.client, id: c2Id })).toBe(true);

    // A custom role used in a grant, then changed, then deleted.
    const role = ok(
      await t.call('POST', '/Role', acme.token, {
        roles: [
          {
            role: { roleName: 'ops' },
            categoryPermission: {
              categoriesPermissionOperationType: 'ADD',
              categoriesPermissionList: [{ permissionName: 'View' }],
            },
          },
        ],
      }),
    ).response[0].entity.roleId as number;
    await expectNode2([acme.companyId], 'POST Role');
    ok(
      await t.call('POST', '/Security', acme.token, {
        entityAssociated: { entity: [{ clientId: c2Id }] },
        securityAssociations: {
          associationsOperationType: 'ADD',
          associations: [{ userOrGroup: [{ userId: worker }], properties: { role: { roleId: role } } }],
        },
      }),
    );
    await expectNode2([acme.companyId], 'POST Security with a custom role');
    expect((await node2.current()).allowed(worker, 'Browse', { type: T.client, id: c2Id })).toBe(false);
    ok(
      await t.call('POST', `/Role/${role}`, acme.token, {
        roles: [
          {
            categoryPermission: {
              categoriesPermissionOperationType: 'ADD',
              categoriesPermissionList: [{ permissionName: 'Browse' }],
            },
          },
        ],
      }),
    );
    await expectNode2([acme.companyId], 'POST Role/{id}');
    expect((await node2.current()).allowed(worker, 'Browse', { type: T.client, id: c2Id })).toBe(true);
    ok(await t.call('POST', `/Role/${role}`, acme.token, { roles: [{ role: { roleName: 'operators' } }] }));
    await expectNode2([acme.companyId], 'POST Role/{id} renames');
    expect((await node2.current()).roleName(role)).toBe('operators');

    // A group: created with a member, granted, its membership changed.
    const group = ok(
      await t.call('POST', '/UserGroup', acme.token, {
        groups: [{ userGroupEntity: { userGroupName: 'crew' }, users: [{ userName: 'worker' }] }],
      }),
    ).response[0].entity.userGroupId as number;
    await expectNode2([acme.companyId], 'POST UserGroup');
    ok(
      await t.call('POST', '/Security', acme.token, {
        entityAssociated: { entity: [{ entityType: T.company, entityId: acme.companyId }] },
        securityAssociations: {
          associationsOperationType: 'ADD',
          associations: [
            { userOrGroup: [{ userGroupId: group }], properties: { role: { roleName: 'Restore Operator' } } },
          ],
        },
      }),
    );
    await expectNode2([acme.companyId], 'POST Security to a group on the company');
    expect((await node2.current()).allowed(worker, 'In Place Restore', { type: T.client, id: c2Id })).toBe(true);
    ok(
      await t.call('POST', `/UserGroup/${group}`, acme.token, {
        groups: [{ usersOperationType: 'DELETE', users: [{ userName: 'worker' }] }],
      }),
    );
    await expectNode2([acme.companyId], 'POST UserGroup/{id} membership');
    expect((await node2.current()).allowed(worker, 'In Place Restore', { type: T.client, id: c2Id })).toBe(false);
    ok(await t.call('POST', `/UserGroup/${group}`, acme.token, { groups: [{ newName: 'crew2' }] }));
    await expectNode2([acme.companyId], 'POST UserGroup/{id} renames');
    expect((await node2.current()).groupName(group)).toBe('crew2');

    // Deletes.
    ok(await t.call('DELETE', `/Role/${role}`, acme.token));
    await expectNode2([acme.companyId], 'DELETE Role');
    ok(await t.call('DELETE', `/UserGroup/${group}`, acme.token));
    await expectNode2([acme.companyId], 'DELETE UserGroup');
    ok(await t.call('DELETE', `/Entities/client/${c2Id}`, acme.token));
    await expectNode2([acme.companyId], 'DELETE Entities');
    ok(await t.call('POST', `/Entities/clientGroup/${await entityId('g1')}`, acme.token, { name: 'g1b' }));
    await expectNode2([acme.companyId], 'rename');
    expect((await node2.current()).entity({ type: T.clientGroup, id: (await entityId('g1b')) as number })?.name).toBe(
      'g1b',
    );

    // The CommCell administrator grants a CommCell user on a tenant's entity: the entity's company.
    const c1 = (await entityId('c1')) as number;
    const refused = await t.call('POST', '/Security', admin, {
      entityAssociated: { entity: [{ clientId: c1 }] },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [{ userOrGroup: [{ userId: beta.userId }], properties: { role: { roleName: 'View' } } }],
      },
    });
    expect(refused.json().response[0].errorCode).toBe(1204);
    ok(
      await t.call('POST', '/Security', admin, {
        entityAssociated: { entity: [{ clientId: c1 }] },
        securityAssociations: {
          associationsOperationType: 'ADD',
          associations: [{ userOrGroup: [{ userName: 'admin' }], properties: { role: { roleName: 'View' } } }],
        },
      }),
    );
    await expectNode2([acme.companyId], 'POST Security by the CommCell on a tenant entity');

    // A CommCell user given associations from its own side: it may hold them in any company, so all.
    ok(
      await t.call('POST', '/User', admin, {
        users: [
          {
            userEntity: { userName: 'msp' },
            password: b64('Msp-Passw0rd!'),
            securityAssociations: {
              associationsOperationType: 'ADD',
              associations: [{ entities: { entity: [{ clientId: c1 }] }, properties: { role: { roleName: 'View' } } }],
            },
          },
        ],
      }),
    );
    await expectNode2('all', 'POST User (CommCell) with associations');
  });

  it('store changes: one reload shared by concurrent callers, only the changed company', async () => {
    const acme = await t.store.db
      .selectFrom('companies')
      .select('id')
      .where('domain_key', '=', 'acme')
      .executeTakeFirstOrThrow();
    await node2.current();
    const at = new Date().toISOString();
    const userId = await t.store.db.transaction().execute(async (tx) => {
      const u = await createUser(tx, {
        companyId: acme.id,
        userName: 'direct',
        fullName: '',
        email: '',
        passwordHash: null,
        now: at,
      });
      const tenantUsers = await tx
        .selectFrom('user_groups')
        .select('id')
        .where('company_id', '=', acme.id)
        .where('system_kind', '=', 'tenant-users')
        .executeTakeFirstOrThrow();
      await addMember(tx, tenantUsers.id, u.id);
      await grant(
        tx,
        {
          entityType: T.company,
          entityId: acme.id,
          principalKind: 'user',
          principalId: u.id,
          roleId: 5,
          companyId: acme.id,
        },
        at,
      );
      await bumpAuthzVersion(tx, [acme.id]);
      return u.id;
    });
    const before = { ...node2.stats };
    const views = await Promise.all([node2.current(), node2.current(), node2.current(), node2.current()]);
    expect(new Set(views).size).toBe(1);
    expect(node2.stats.partLoads).toBe(before.partLoads + 1);
    expect(node2.stats.fullLoads).toBe(before.fullLoads);
    expect(node2.stats.lastParts).toEqual([acme.id]);
    expect(views[0]?.allowed(userId, 'View', { type: T.company, id: acme.id })).toBe(true);
    expect(views[0]?.companyOfUser(userId)).toBe(acme.id);
    expect(await differences(views[0] as AuthzView)).toEqual([]);

    // Nothing moved: no reload at all.
    await node2.current();
    expect(node2.stats.partLoads).toBe(before.partLoads + 1);

    // 'all' reloads everything.
    await t.store.db.transaction().execute((tx) => bumpAuthzVersion(tx, 'all'));
    await expectNode2('all', "bump 'all'");
  });
});

async function entityId(name: string): Promise<number | undefined> {
  const row = await t.store.db.selectFrom('entities').select('id').where('name', '=', name).executeTakeFirst();
  return row?.id;
}

describe('version reads', () => {
  it('a caller that comes while a read is under way waits for one sent after it, shared with the others', async () => {
    // A SQLite store without its change signal, so that every call reads, as on PostgreSQL.
    const store: Store = { db: t.store.db, dialect: t.store.dialect, close: async () => {} };
    const version = async () =>
      Number((await t.store.db.selectFrom('authz_version').select('version').executeTakeFirstOrThrow()).version);
    const sent: Array<(v: number) => void> = [];
    const node = new AuthzService(store, () => new Promise<number>((resolve) => sent.push(resolve)));
    const settled = new Set<Promise<AuthzView>>();
    const call = () => {
      const p = node.current();
      p.then(
        () => settled.add(p),
        () => {},
      );
      return p;
    };
    const tick = () => new Promise((r) => setTimeout(r, 5));

    const first = call();
    expect(sent.length).toBe(1);
    sent[0]?.(await version());
    await first;

    const a = call();
    expect(sent.length).toBe(2);
    const b = call();
    const c = call();
    // b and c came after read 2 was sent: it may predate a commit they must see.
    expect(sent.length).toBe(2);
    sent[1]?.(await version());
    await a;
    await tick();
    expect(settled.has(b) || settled.has(c)).toBe(false);
    // One read for both, sent once read 2 was done.
    expect(sent.length).toBe(3);

    // A change committed now, before read 3 runs, is seen by b and c.
    const acme = await t.store.db
      .selectFrom('companies')
      .select('id')
      .where('domain_key', '=', 'acme')
      .executeTakeFirstOrThrow();
    await t.store.db.transaction().execute((tx) => bumpAuthzVersion(tx, [acme.id]));
    const loads = node.stats.partLoads;
    sent[2]?.(await version());
    const [vb, vc] = await Promise.all([b, c]);
    expect(vb).toBe(vc);
    expect(node.stats.partLoads).toBe(loads + 1);
    expect(sent.length).toBe(3);

    // A read that fails fails its callers only; the next call reads again.
    const d = call();
    expect(sent.length).toBe(4);
    const e = call();
    (sent as unknown as Array<(v: unknown) => void>)[3]?.(Promise.reject(new Error('connection lost')));
    await expect(d).rejects.toThrow('connection lost');
    await tick();
    expect(sent.length).toBe(5);
    sent[4]?.(await version());
    await e;
  });
});

describe('a change feed (PostgreSQL LISTEN/NOTIFY) in place of the version read', () => {
  it('answers without reading while the feed is live, catches up on what it tells, and reads when it is not live or after a commit of its own', async () => {
    let commits = 0;
    // As on PostgreSQL: no change signal, a count of this process's commits.
    const store: Store = {
      db: t.store.db,
      dialect: t.store.dialect,
      localCommits: () => commits,
      close: async () => {},
    };
    let reads = 0;
    const node = new AuthzService(store, async (db) => {
      reads++;
      return Number((await db.selectFrom('authz_version').select('version').executeTakeFirstOrThrow()).version);
    });
    let live = true;
    node.useFeed({ live: () => live });
    // The CommCell's own part (company 0): there whether or not earlier tests ran.
    const acme = { id: 0 };
    const bump = async () => {
      await t.store.db.transaction().execute((tx) => bumpAuthzVersion(tx, [acme.id]));
      return Number((await t.store.db.selectFrom('authz_version').select('version').executeTakeFirstOrThrow()).version);
    };

    await node.current();
    expect(reads).toBe(1);
    // Live, nothing told: no read, however many requests.
    for (let i = 0; i < 5; i++) await node.current();
    expect(reads).toBe(1);

    // Another node's change, told by the feed: the view reloads that company without a read.
    const loads = node.stats.partLoads;
    node.noteVersion(await bump());
    await node.current();
    expect(reads).toBe(1);
    expect(node.stats.partLoads).toBe(loads + 1);
    expect(node.stats.lastParts).toEqual([acme.id]);

    // A change not (yet) told is not seen while live: that is the lease the README bounds.
    await bump();
    // This process committed something: its own notification may lag, so it reads once.
    commits++;
    await node.current();
    expect(reads).toBe(2);
    expect(node.stats.partLoads).toBe(loads + 2);
    await node.current();
    expect(reads).toBe(2);

    // Not live (listener down or its proof older than the lease): a read on every call.
    live = false;
    await node.current();
    await node.current();
    expect(reads).toBe(4);
    const before = node.stats.partLoads;
    await bump();
    await node.current();
    expect(node.stats.partLoads).toBe(before + 1);
  });
});
