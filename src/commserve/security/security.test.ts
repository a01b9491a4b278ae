import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addEntities } from '../../../test/estate.js';
import { ADMIN_PASSWORD, BASE, b64, makeTenant, startApp, type TestApp } from '../../../test/harness.js';
import { AuthzView } from '../../domain/authz.js';
import { describeGrants } from './routes.js';

let t: TestApp;
let admin: string;
let acme: Awaited<ReturnType<typeof makeTenant>>;
let beta: Awaited<ReturnType<typeof makeTenant>>;

// CommCell: plan 10. acme: client group 100 > client 101 (also in group 102) >
// agent 103 > instance 104 > backup set 105 > subclient 106; plan 110.
// beta: client 201.
beforeEach(async () => {
  t = await startApp();
  admin = await t.login();
  acme = await makeTenant(t, admin, 'acme');
  beta = await makeTenant(t, admin, 'beta');
  await addEntities(
    t.store,
    [
      { id: 10, type: 158, companyId: 0, name: 'gold' },
      { id: 100, type: 28, companyId: acme.companyId, name: 'servers' },
      { id: 102, type: 28, companyId: acme.companyId, name: 'linux' },
      { id: 101, type: 3, companyId: acme.companyId, name: 'db01' },
      { id: 103, type: 4, companyId: acme.companyId, parentId: 101, name: 'File System' },
      { id: 104, type: 5, companyId: acme.companyId, parentId: 103, name: 'default' },
      { id: 105, type: 6, companyId: acme.companyId, parentId: 104, name: 'defaultBackupSet' },
      { id: 106, type: 7, companyId: acme.companyId, parentId: 105, name: 'default' },
      { id: 110, type: 158, companyId: acme.companyId, name: 'acme-plan' },
      { id: 201, type: 3, companyId: beta.companyId, name: 'beta01' },
    ],
    [
      [100, 101],
      [102, 101],
    ],
  );
  for (const [name, domain] of [
    ['RSmith', null],
    ['bob', 'acme'],
    ['carl', 'acme'],
    ['zed', 'beta'],
  ] as const) {
    const res = await t.call('POST', '/User', admin, {
      users: [{ userEntity: { userName: domain ? `${domain}\\${name}` : name }, password: b64(`${name}-Passw0rd!`) }],
    });
    expect(res.json().response[0].errorCode).toBe(0);
  }
});
afterEach(async () => {
  await t.close();
});

const post = (token: string, body: unknown, headers: Record<string, string> = {}) =>
  t.call('POST', '/Security', token, body, headers);

const assoc = (
  entity: Record<string, unknown>,
  op: string | number,
  ...items: Array<[Record<string, unknown>, Record<string, unknown>]>
) => ({
  entityAssociated: { entity: [entity] },
  securityAssociations: {
    associationsOperationType: op,
    associations: items.map(([who, role]) => ({ userOrGroup: [who], properties: { role } })),
  },
});

const codes = (res: { json(): { response: Array<{ errorCode: number }> } }) =>
  res.json().response.map((r) => r.errorCode);

async function count() {
  const r = await t.store.db
    .selectFrom('security_associations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('POST Security', () => {
  it("takes the seed's sample request verbatim (trailing comma and all) and answers as the seed shows", async () => {
    const sample = `{ "entityAssociated": { "entity": [{ "entityType": 158, "_type_": 150, "entityId": 10 }] }, "securityAssociations": { "associationsOperationType": "ADD", "associations": [{ "userOrGroup": [{ "userName": "RSmith" }], "properties": { "role": { "roleId": 3, } } }] }
}`;
    const res = await t.inject({
      method: 'POST',
      url: `${BASE}/Security`,
      headers: { authtoken: admin, accept: 'application/json', 'content-type': 'application/json' },
      payload: sample,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ response: [{ warningCode: 0, errorCode: 0, warningMessage: '' }] });
    const rows = await t.store.db
      .selectFrom('security_associations')
      .selectAll()
      .where('entity_type', '=', 158)
      .execute();
    expect(rows).toMatchObject([{ entity_id: 10, principal_kind: 'user', role_id: 3 }]);
  });

  it('accepts the operation as a name in any case or as 1/2/3, and typed ids for entities', async () => {
    for (const [op, entity] of [
      ['add', { planId: 110, _type_: 158 }],
      [2, { clientId: 101 }],
      ['2', { clientGroupId: 100, _type_: 28 }],
      ['ADD', { providerId: acme.companyId }],
      ['Add', { subclientId: '106' }],
    ] as const) {
      const res = await post(admin, assoc(entity, op, [{ userName: 'acme\\bob' }, { roleName: 'View' }]));
      expect(codes(res), JSON.stringify(entity)).toEqual([0]);
    }
    expect(await count()).toBe(3 + 5); // master, and the two Tenant Admin groups, were there before
  });

  it('names principals and roles by id or by name, users and groups alike', async () => {
    const bob = await t.store.db
      .selectFrom('users')
      .select('id')
      .where('name_key', '=', 'bob')
      .executeTakeFirstOrThrow();
    const group = await t.store.db
      .selectFrom('user_groups')
      .select('id')
      .where('company_id', '=', acme.companyId)
      .where('name_key', '=', 'tenant users')
      .executeTakeFirstOrThrow();
    const res = await post(admin, {
      entityAssociated: { entity: [{ entityType: 3, _type_: 150, entityId: 101 }] },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [
          { userOrGroup: [{ userId: bob.id, _type_: 13 }], properties: { role: { roleId: 4, _type_: 120 } } },
          {
            userOrGroup: [{ userGroupName: 'acme\\Tenant Users', _type_: 15 }],
            properties: { role: { roleName: 'View' } },
          },
          { userOrGroup: [{ userGroupId: group.id }], properties: { role: { roleName: 'restore operator' } } },
        ],
      },
    });
    expect(codes(res)).toEqual([0, 0, 0]);
  });

  it('gives one result per association, entity by entity, for several entities at once', async () => {
    const res = await post(admin, {
      entityAssociated: { entity: [{ clientId: 101 }, { planId: 110 }] },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [
          { userOrGroup: [{ userName: 'acme\\bob' }], properties: { role: { roleName: 'View' } } },
          { userOrGroup: [{ userName: 'acme\\carl' }], properties: { role: { roleName: 'View' } } },
        ],
      },
    });
    expect(codes(res)).toEqual([0, 0, 0, 0]);
  });

  it('answers 1201 for a duplicate ADD and 1200 for a DELETE of nothing; DELETE removes; OVERWRITE replaces', async () => {
    const bobView = assoc({ clientId: 101 }, 'ADD', [{ userName: 'acme\\bob' }, { roleName: 'View' }]);
    expect(codes(await post(admin, bobView))).toEqual([0]);
    expect(codes(await post(admin, bobView))).toEqual([1201]);
    const before = await count();
    expect(
      codes(
        await post(admin, {
          ...bobView,
          securityAssociations: { ...bobView.securityAssociations, associationsOperationType: 'DELETE' },
        }),
      ),
    ).toEqual([0]);
    expect(await count()).toBe(before - 1);
    expect(
      codes(
        await post(admin, {
          ...bobView,
          securityAssociations: { ...bobView.securityAssociations, associationsOperationType: 3 },
        }),
      ),
    ).toEqual([1200]);

    await post(
      admin,
      assoc(
        { clientId: 101 },
        'ADD',
        [{ userName: 'acme\\bob' }, { roleName: 'View' }],
        [{ userName: 'acme\\carl' }, { roleName: 'View' }],
      ),
    );
    const over = await post(
      admin,
      assoc({ clientId: 101 }, 'OVERWRITE', [{ userName: 'acme\\carl' }, { roleName: 'Restore Operator' }]),
    );
    expect(codes(over)).toEqual([0]);
    const rows = await t.store.db
      .selectFrom('security_associations')
      .selectAll()
      .where('entity_type', '=', 3)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ role_id: 4 });
    // OVERWRITE with nothing clears the entity.
    expect((await post(admin, assoc({ clientId: 101 }, 1))).json()).toEqual({ response: [] });
    expect(
      await t.store.db.selectFrom('security_associations').selectAll().where('entity_type', '=', 3).execute(),
    ).toEqual([]);
  });

  it('applies a request whole or not at all: a bad item rolls the good ones back', async () => {
    const before = await count();
    const res = await post(
      admin,
      assoc(
        { clientId: 101 },
        'ADD',
        [{ userName: 'acme\\bob' }, { roleName: 'View' }],
        [{ userName: 'acme\\nobody' }, { roleName: 'View' }],
        [{ userName: 'acme\\carl' }, { roleName: 'No Such Role' }],
      ),
    );
    const body = res.json();
    expect(codes(res)).toEqual([2, 1200, 1200]);
    expect(body.response[0].warningMessage).toMatch(/Not applied/);
    expect(body.response[1].warningMessage).toMatch(/nobody/);
    expect(await count()).toBe(before);
    // A failure found while writing (a duplicate) rolls back the same way.
    await post(admin, assoc({ clientId: 101 }, 'ADD', [{ userName: 'acme\\carl' }, { roleName: 'View' }]));
    const dup = await post(
      admin,
      assoc(
        { clientId: 101 },
        'ADD',
        [{ userName: 'acme\\bob' }, { roleName: 'View' }],
        [{ userName: 'acme\\carl' }, { roleName: 'View' }],
      ),
    );
    expect(codes(dup)).toEqual([2, 1201]);
    expect(await count()).toBe(before + 1);
  });

  it('answers 1200 for unknown entities and unknown types, and 1204 for an entity named no known way', async () => {
    expect(codes(await post(admin, assoc({ clientId: 9999 }, 'ADD', [{ userName: 'RSmith' }, { roleId: 5 }])))).toEqual(
      [1200],
    );
    expect(
      codes(await post(admin, assoc({ entityType: 3, entityId: 106 }, 'ADD', [{ userName: 'RSmith' }, { roleId: 5 }]))),
    ).toEqual([1200]);
    expect(
      codes(await post(admin, assoc({ entityType: 999, entityId: 1 }, 'ADD', [{ userName: 'RSmith' }, { roleId: 5 }]))),
    ).toEqual([1204]);
    expect(codes(await post(admin, assoc({ nothing: 1 }, 'ADD', [{ userName: 'RSmith' }, { roleId: 5 }])))).toEqual([
      1204,
    ]);
    expect(
      codes(await post(admin, assoc({ clientId: 101 }, 'ADD', [{ userName: 'RSmith' }, { roleId: 99999 }]))),
    ).toEqual([1200]);
    expect(codes(await post(admin, assoc({ clientId: 101 }, 'ADD', [{ nobody: 1 }, { roleId: 5 }])))).toEqual([1204]);
  });

  it("never grants a company's user anything outside its company, even when the CommCell administrator asks", async () => {
    for (const entity of [{ clientId: 201 }, { planId: 10 }, { commCellId: 0 }, { providerId: beta.companyId }]) {
      const res = await post(admin, assoc(entity, 'ADD', [{ userName: 'acme\\bob' }, { roleName: 'View' }]));
      expect(codes(res), JSON.stringify(entity)).toEqual([1204]);
    }
  });

  it("a tenant admin manages its own company's associations, and cannot see another's (1200) or escalate (587204594)", async () => {
    expect(
      codes(
        await post(
          acme.token,
          assoc({ clientId: 101 }, 'ADD', [{ userName: 'bob' }, { roleName: 'Restore Operator' }]),
        ),
      ),
    ).toEqual([0]);
    expect(
      codes(await post(acme.token, assoc({ clientId: 201 }, 'ADD', [{ userName: 'bob' }, { roleName: 'View' }]))),
    ).toEqual([1200]);
    expect(
      codes(await post(acme.token, assoc({ clientId: 101 }, 'ADD', [{ userName: 'beta\\zed' }, { roleName: 'View' }]))),
    ).toEqual([1200]);
    expect(
      codes(await post(acme.token, assoc({ planId: 10 }, 'ADD', [{ userName: 'bob' }, { roleName: 'View' }]))),
    ).toEqual([1200]);
    // Tenant Admin lacks Storage Management, so it cannot hand out Master.
    const esc = await post(
      acme.token,
      assoc({ providerId: acme.companyId }, 'ADD', [{ userName: 'bob' }, { roleName: 'Master' }]),
    );
    expect(codes(esc)).toEqual([587204594]);
    expect(esc.json().response[0].warningMessage).toMatch(/Storage Management/);
  });

  it('a user without Security Management gets 587204594, and the refusal is audited', async () => {
    const bob = await t.login('acme\\bob', 'bob-Passw0rd!');
    expect(
      codes(await post(bob, assoc({ clientId: 101 }, 'ADD', [{ userName: 'carl' }, { roleName: 'View' }]))),
    ).toEqual([587204594]);
  });

  it('takes effect on the next request: a grant of User Management lets a user create users, its removal stops it', async () => {
    const carl = await t.login('acme\\carl', 'carl-Passw0rd!');
    const create = (name: string) =>
      t.call('POST', '/User', carl, { users: [{ userEntity: { userName: name }, password: b64('Some-Passw0rd!') }] });
    expect((await create('dave')).json().response[0].errorCode).toBe(587204594);
    const grant = assoc({ providerId: acme.companyId }, 'ADD', [{ userName: 'carl' }, { roleName: 'Tenant Admin' }]);
    expect(codes(await post(acme.token, grant))).toEqual([0]);
    expect((await create('dave')).json().response[0].errorCode).toBe(0);
    expect(
      codes(
        await post(acme.token, {
          ...grant,
          securityAssociations: { ...grant.securityAssociations, associationsOperationType: 'DELETE' },
        }),
      ),
    ).toEqual([0]);
    expect((await create('erin')).json().response[0].errorCode).toBe(587204594);
  });

  it('writes one audit record per request: success when applied, failure when refused', async () => {
    await post(admin, assoc({ clientId: 101 }, 'ADD', [{ userName: 'acme\\bob' }, { roleName: 'View' }]));
    await post(admin, assoc({ clientId: 101 }, 'ADD', [{ userName: 'acme\\nobody' }, { roleName: 'View' }]));
    const rows = await t.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('operation', 'like', 'security.%')
      .execute();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ operation: 'security.add', outcome: 'success', company_id: acme.companyId });
    expect(rows[1]).toMatchObject({ operation: 'security.add', outcome: 'failure', reason: 'no user acme\\nobody' });
    expect(JSON.parse(rows[0]!.details).associations[0]).toMatchObject({ user: 'bob', role: 'View' });
  });

  it('refuses malformed requests with 400 in the response shape', async () => {
    const bad = [
      {},
      {
        entityAssociated: { entity: [] },
        securityAssociations: { associationsOperationType: 'ADD', associations: [] },
      },
      assoc({ clientId: 101 }, 'MERGE', [{ userName: 'RSmith' }, { roleId: 5 }]),
      assoc({ clientId: 101 }, 'ADD'),
      { entityAssociated: { entity: 'client' }, securityAssociations: { associationsOperationType: 'ADD' } },
    ];
    for (const body of bad) {
      const res = await post(admin, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().response[0].errorCode).toBe(1000);
    }
  });

  it('takes the XML form, with lone elements as lists of one', async () => {
    const xml = `<App_SecurityAssociationReq>
      <entityAssociated><entity entityType="3" _type_="150" entityId="101"/></entityAssociated>
      <securityAssociations associationsOperationType="ADD">
        <associations><userOrGroup userName="acme\\bob"/><properties><role roleName="View"/></properties></associations>
      </securityAssociations>
    </App_SecurityAssociationReq>`;
    const res = await post(admin, xml, { 'content-type': 'application/xml', accept: 'application/xml' });
    expect(res.body).toContain('<response errorCode="0" warningCode="0" warningMessage=""/>');
  });

  it('keeps the admin password out of everything it writes', async () => {
    await post(admin, assoc({ clientId: 101 }, 'ADD', [{ userName: 'acme\\bob' }, { roleName: 'View' }]));
    const all = JSON.stringify(await t.store.db.selectFrom('audit_log').selectAll().execute());
    expect(all).not.toContain(ADMIN_PASSWORD);
  });
});

describe('GET Security/{entityType}/{entityId}', () => {
  it("lists an entity's associations in the product's shape", async () => {
    await post(
      admin,
      assoc(
        { clientId: 101 },
        'ADD',
        [{ userName: 'acme\\bob' }, { roleName: 'View' }],
        [{ userGroupName: 'acme\\Tenant Users' }, { roleId: 4 }],
      ),
    );
    const res = await t.call('GET', '/Security/3/101', acme.token);
    const list = res.json().securityAssociations[0].securityAssociations.associations;
    expect(list).toHaveLength(2);
    expect(list[0].userOrGroup[0]).toMatchObject({ userName: 'bob', _type_: 13 });
    expect(list[0].properties.role).toMatchObject({ roleId: 5, roleName: 'View' });
    expect(list[1].userOrGroup[0]).toMatchObject({ userGroupName: 'Tenant Users', _type_: 15 });
    expect(list[1].properties.role.roleName).toBe('Restore Operator');
    const empty = await t.call('GET', '/Security/158/110', acme.token);
    expect(empty.json().securityAssociations[0].securityAssociations.associations).toEqual([]);
  });

  it("hides other tenants' entities (1200) and needs Security Management (587204594)", async () => {
    expect((await t.call('GET', '/Security/3/201', acme.token)).json().errorCode).toBe(1200);
    expect((await t.call('GET', '/Security/3/999', admin)).json().errorCode).toBe(1200);
    expect((await t.call('GET', '/Security/7/101', admin)).json().errorCode).toBe(1200);
    const bob = await t.login('acme\\bob', 'bob-Passw0rd!');
    expect((await t.call('GET', '/Security/3/101', bob)).json().errorCode).toBe(587204594);
  });
});

describe('describeGrants', () => {
  it('names from the view, and from the store what the view does not hold yet', async () => {
    const db = t.store.db;
    const master = await db.selectFrom('user_groups').select(['id', 'name']).where('system_kind', '=', 'master');
    const group = await master.executeTakeFirstOrThrow();
    const adminRow = await db
      .selectFrom('users')
      .select('id')
      .where('name_key', '=', 'admin')
      .executeTakeFirstOrThrow();
    const grants = [
      { entityType: 1, entityId: 0, principalKind: 'group' as const, principalId: group.id, roleId: 1 },
      { entityType: 1, entityId: 0, principalKind: 'user' as const, principalId: adminRow.id, roleId: 5 },
    ];
    const reply = (names: string[]) => [
      {
        entity: { entityType: 1, entityId: 0 },
        userOrGroup: { userGroupId: group.id, userGroupName: names[0], _type_: 15 },
        role: { roleId: 1, roleName: names[1], _type_: 120 },
      },
      {
        entity: { entityType: 1, entityId: 0 },
        userOrGroup: { userId: adminRow.id, userName: names[2], _type_: 13 },
        role: { roleId: 5, roleName: names[3], _type_: 120 },
      },
    ];
    const empty = { entities: [], clientGroups: [], grants: [], rolePermissions: [], memberships: [] };
    // A view that holds no names: all four come from the store.
    expect(await describeGrants(db, new AuthzView({ ...empty, userCompanies: [] }), grants)).toEqual(
      reply(['master', 'Master', 'admin', 'View']),
    );
    // A view's names win (no query for them); only the missing one is read.
    const named = new AuthzView({
      ...empty,
      userCompanies: [[adminRow.id, 0, 'from-view']],
      roleNames: [
        [1, 'Master*'],
        [5, 'View*'],
      ],
    });
    expect(await describeGrants(db, named, grants)).toEqual(reply(['master', 'Master*', 'from-view', 'View*']));
  });
});

describe('GET Security/Explain', () => {
  const explain = (token: string, userId: number, type: number, id: number, permission: string) =>
    t.call(
      'GET',
      `/Security/Explain?userId=${userId}&entityType=${type}&entityId=${id}&permission=${encodeURIComponent(permission)}`,
      token,
    );
  const idOf = async (name: string) =>
    (await t.store.db.selectFrom('users').select('id').where('name_key', '=', name).executeTakeFirstOrThrow()).id;

  it('follows inheritance down every level and through each client group, naming the chain', async () => {
    const bob = await idOf('bob');
    for (const [type, id] of [
      [28, 100],
      [28, 102],
      [3, 101],
      [4, 103],
      [5, 104],
      [6, 105],
      [7, 106],
    ] as const) {
      const entity = { entityType: type, _type_: 150, entityId: id };
      expect(
        codes(
          await post(admin, assoc(entity, 'OVERWRITE', [{ userName: 'acme\\bob' }, { roleName: 'Restore Operator' }])),
        ),
      ).toEqual([0]);
      const res = (await explain(admin, bob, 7, 106, 'In Place Restore')).json();
      expect(res.allowed, `granted on ${type}:${id}`).toBe(true);
      expect(res.grants).toEqual([
        {
          entity: { entityType: type, entityId: id },
          userOrGroup: { userId: bob, userName: 'bob', _type_: 13 },
          role: { roleId: 4, roleName: 'Restore Operator', _type_: 120 },
        },
      ]);
      // Nothing above the grant inherits it.
      if (type !== 28) expect((await explain(admin, bob, 28, 100, 'View')).json().allowed).toBe(false);
      await post(admin, assoc(entity, 'OVERWRITE'));
    }
    expect((await explain(admin, bob, 7, 106, 'View')).json()).toMatchObject({ allowed: false, grants: [] });
  });

  it("explains the CommCell administrator's Master and a tenant admin's Tenant Admin via their groups", async () => {
    const adminId = await idOf('admin');
    const res = (await explain(admin, adminId, 7, 106, 'Browse')).json();
    expect(res.allowed).toBe(true);
    expect(res.grants[0]).toMatchObject({
      entity: { entityType: 1, entityId: 0 },
      userOrGroup: { userGroupName: 'master' },
      role: { roleName: 'Master' },
    });
    const tenant = (await explain(acme.token, acme.userId, 158, 110, 'Security Management')).json();
    expect(tenant.grants[0]).toMatchObject({
      entity: { entityType: 61, entityId: acme.companyId },
      role: { roleName: 'Tenant Admin' },
    });
    expect((await explain(acme.token, acme.userId, 158, 110, 'Storage Management')).json().allowed).toBe(false);
  });

  it('lets a user explain itself, needs Security Management for others, and hides other tenants', async () => {
    const bobToken = await t.login('acme\\bob', 'bob-Passw0rd!');
    const bob = await idOf('bob');
    expect((await explain(bobToken, bob, 3, 101, 'View')).json()).toMatchObject({ allowed: false });
    expect((await explain(bobToken, acme.userId, 3, 101, 'View')).json().errorCode).toBe(587204594);
    expect((await explain(acme.token, bob, 3, 201, 'View')).json().errorCode).toBe(1200);
    expect((await explain(acme.token, beta.userId, 3, 101, 'View')).json().errorCode).toBe(1200);
    expect((await explain(admin, bob, 3, 101, 'Fly')).json().errorCode).toBe(1204);
    expect(
      (await t.call('GET', '/Security/Explain?userId=x&entityType=3&entityId=1&permission=View', admin)).statusCode,
    ).toBe(400);
  });
});

describe("associations written from the principal's side (as cvpysdk does)", () => {
  const block = (op: string | number, ...pairs: Array<[Record<string, unknown>, string]>) => ({
    associationsOperationType: op,
    associations: pairs.map(([entity, roleName]) => ({
      entities: { entity: [entity] },
      properties: { role: { roleName } },
    })),
  });
  const assocOf = async (userName: string) => {
    const u = await t.store.db.selectFrom('users').select('id').where('name_key', '=', userName).executeTakeFirst();
    if (!u) return null;
    return t.store.db
      .selectFrom('security_associations')
      .select(['entity_type', 'entity_id', 'role_id'])
      .where('principal_kind', '=', 'user')
      .where('principal_id', '=', u.id)
      .orderBy('id')
      .execute();
  };

  it('POST User creates the user with its associations, entities named as cvpysdk names them', async () => {
    const res = await t.call('POST', '/User', admin, {
      users: [
        {
          userEntity: { userName: 'acme\\newbie' },
          password: b64('Newbie-Passw0rd!'),
          securityAssociations: block(
            'ADD',
            [{ clientName: 'db01' }, 'Restore Operator'],
            [{ planName: 'acme-plan' }, 'View'],
          ),
        },
      ],
    });
    expect(res.json().response[0].errorCode).toBe(0);
    expect(await assocOf('newbie')).toEqual([
      { entity_type: 3, entity_id: 101, role_id: 4 },
      { entity_type: 158, entity_id: 110, role_id: 5 },
    ]);
    const token = await t.login('acme\\newbie', 'Newbie-Passw0rd!');
    const me = (await t.call('GET', '/WhoAmI', token)).json().user.userId;
    expect(
      (await t.call('GET', `/Security/Explain?userId=${me}&entityType=7&entityId=106&permission=Browse`, token)).json()
        .allowed,
    ).toBe(true);
  });

  it('a bad association fails the whole user creation: no user, no association', async () => {
    const res = await t.call('POST', '/User', admin, {
      users: [
        {
          userEntity: { userName: 'acme\\ghost' },
          password: b64('Ghost-Passw0rd!'),
          securityAssociations: block(
            'ADD',
            [{ clientName: 'db01' }, 'View'],
            [{ clientName: 'no-such-client' }, 'View'],
          ),
        },
      ],
    });
    expect(res.json().response[0].errorCode).toBe(1200);
    expect(await assocOf('ghost')).toBeNull();
  });

  it("refuses to grant a company's user on another company's entity, from its own side too", async () => {
    const res = await t.call('POST', '/User', admin, {
      users: [
        {
          userEntity: { userName: 'acme\\spy' },
          password: b64('Spy-Passw0rd!!'),
          securityAssociations: block('ADD', [{ clientId: 201 }, 'View']),
        },
      ],
    });
    expect(res.json().response[0].errorCode).toBe(1204);
    expect(await assocOf('spy')).toBeNull();
  });

  it("POST User/{id} adds, overwrites and deletes a user's associations; an empty block changes nothing", async () => {
    const bob = await t.store.db
      .selectFrom('users')
      .select('id')
      .where('name_key', '=', 'bob')
      .executeTakeFirstOrThrow();
    const update = (securityAssociations: unknown) =>
      t.call('POST', `/User/${bob.id}`, acme.token, { users: [{ securityAssociations }] });
    expect((await update(block(2, [{ clientName: 'db01' }, 'View']))).json().response[0].errorCode).toBe(0);
    expect((await update({})).json().response[0].errorCode).toBe(0);
    expect(await assocOf('bob')).toEqual([{ entity_type: 3, entity_id: 101, role_id: 5 }]);
    expect(
      (await update(block('OVERWRITE', [{ clientGroupName: 'servers' }, 'Restore Operator']))).json().response[0]
        .errorCode,
    ).toBe(0);
    expect(await assocOf('bob')).toEqual([{ entity_type: 28, entity_id: 100, role_id: 4 }]);
    expect(
      (await update(block('DELETE', [{ clientGroupId: 100 }, 'Restore Operator']))).json().response[0].errorCode,
    ).toBe(0);
    expect(await assocOf('bob')).toEqual([]);
    expect(
      (await update(block('DELETE', [{ clientGroupId: 100 }, 'Restore Operator']))).json().response[0].errorCode,
    ).toBe(1200);
    // A tenant admin cannot reach the CommCell's plan from the principal side either.
    expect((await update(block('ADD', [{ planName: 'gold' }, 'View']))).json().response[0].errorCode).toBe(1200);
  });
});

describe("a user group's associations, from its own side", () => {
  it('POST UserGroup and POST UserGroup/{id} carry securityAssociations into the same rules', async () => {
    const created = await t.call('POST', '/UserGroup', acme.token, {
      groups: [
        {
          userGroupEntity: { userGroupName: 'operators' },
          users: [{ userName: 'bob' }],
          securityAssociations: {
            associationsOperationType: 'ADD',
            associations: [
              {
                entities: { entity: [{ clientName: 'db01' }] },
                properties: { role: { roleName: 'Restore Operator' } },
              },
            ],
          },
        },
      ],
    });
    expect(created.json().response[0].errorCode).toBe(0);
    const groupId = created.json().response[0].entity.userGroupId;
    const bobId = (
      await t.store.db.selectFrom('users').select('id').where('name_key', '=', 'bob').executeTakeFirstOrThrow()
    ).id;
    const why = (
      await t.call('GET', `/Security/Explain?userId=${bobId}&entityType=7&entityId=106&permission=Browse`, acme.token)
    ).json();
    expect(why.allowed).toBe(true);
    expect(why.grants[0].userOrGroup).toMatchObject({ userGroupId: groupId, userGroupName: 'operators' });

    const bad = await t.call('POST', `/UserGroup/${groupId}`, acme.token, {
      groups: [
        {
          securityAssociations: {
            associationsOperationType: 'ADD',
            associations: [{ entities: { entity: [{ clientId: 201 }] }, properties: { role: { roleName: 'View' } } }],
          },
        },
      ],
    });
    expect(bad.json().response[0].errorCode).toBe(1200);
  });

  it("a tenant cannot use the CommCell's custom roles, only the built-in ones", async () => {
    await t.store.db
      .insertInto('roles')
      .values({ id: 500, company_id: 0, name: 'MSP Only', name_key: 'msp only', created_at: new Date().toISOString() })
      .execute();
    await t.store.db.insertInto('role_permissions').values({ role_id: 500, permission: 'View' }).execute();
    const res = await post(acme.token, assoc({ clientId: 101 }, 'ADD', [{ userName: 'bob' }, { roleId: 500 }]));
    expect(codes(res)).toEqual([1200]);
    expect(
      codes(await post(admin, assoc({ planId: 10 }, 'ADD', [{ userName: 'RSmith' }, { roleName: 'MSP Only' }]))),
    ).toEqual([0]);
  });
});

describe('the role and user-group routes ask the same check', () => {
  it('a granted Tenant Admin role lets a plain user manage groups and roles; removing it stops that', async () => {
    const carl = await t.login('acme\\carl', 'carl-Passw0rd!');
    const group = () =>
      t.call('POST', '/UserGroup', carl, { groups: [{ userGroupEntity: { userGroupName: `g${Date.now()}` } }] });
    const role = () =>
      t.call('POST', '/Role', carl, {
        roles: [
          {
            role: { roleName: `r${Date.now()}` },
            categoryPermission: { categoriesPermissionList: [{ permissionName: 'View' }] },
          },
        ],
      });
    const codeOf = (res: { json(): any }) => res.json().response?.[0]?.errorCode ?? res.json().errorCode;
    expect(codeOf(await group())).toBe(587204594);
    expect(codeOf(await role())).toBe(587204594);
    const grant = assoc({ providerId: acme.companyId }, 'ADD', [{ userName: 'carl' }, { roleName: 'Tenant Admin' }]);
    expect(codes(await post(acme.token, grant))).toEqual([0]);
    expect(codeOf(await group())).toBe(0);
    expect(codeOf(await role())).toBe(0);
    await post(acme.token, {
      ...grant,
      securityAssociations: { ...grant.securityAssociations, associationsOperationType: 'DELETE' },
    });
    expect(codeOf(await group())).toBe(587204594);
  });
});
