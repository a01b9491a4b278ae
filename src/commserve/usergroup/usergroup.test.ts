import { describe, expect, it } from 'vitest';
import { BASE, BASES, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { grant, readAuthzVersion } from '../../store/authz.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

const XML = { 'content-type': 'application/xml' };
const PW = 'Member-Passw0rd!';

/** Exactly what cvpysdk's `UserGroups.add(name, domain, users_list)` posts. */
const sdkGroup = (name: string, users: string[] = [], extra: Record<string, unknown> = {}) => ({
  userGroupEntity: { userGroupName: name },
  securityAssociations: {},
  users: users.map((userName) => ({ userName })),
  localUserGroups: [],
  associatedExternalUserGroups: [],
  ...extra,
});

/** cvpysdk's `UserGroup.update_usergroup_members(request_type, users_list)` (via `_send_request`). */
const sdkMembers = (op: 'OVERWRITE' | 'UPDATE' | 'DELETE', users: Array<Record<string, unknown>>) => ({
  groups: [
    {
      localUserGroupsOperationType: { OVERWRITE: 1, UPDATE: 2, DELETE: 3 }[op],
      usersOperationType: { OVERWRITE: 1, UPDATE: 2, DELETE: 3 }[op],
      externalUserGroupsOperationType: { OVERWRITE: 1, UPDATE: 2, DELETE: 3 }[op],
      securityAssociations: {},
      localUserGroups: [],
      users,
      associatedExternalUserGroups: [],
    },
  ],
});

// cvpysdk posts its URL template unformatted: the query string arrives as `%s`, encoded or not.
const ADD_URL = '/UserGroup?includeSystemCreated=%25s';

async function addGroup(token: string, name: string, users: string[] = []) {
  const res = await t.call('POST', ADD_URL, token, { groups: [sdkGroup(name, users)] });
  expect(res.statusCode).toBe(200);
  const item = res.json().response[0];
  expect(item.errorCode, res.body).toBe(0);
  return item.entity as { userGroupName: string; userGroupId: number };
}

async function addUser(token: string, name: string): Promise<number> {
  const res = await t.call('POST', '/User', token, {
    users: [{ userEntity: { userName: name }, email: 'u@u.example', password: b64(PW) }],
  });
  expect(res.json().response[0].errorCode, res.body).toBe(0);
  return res.json().response[0].entity.userId;
}

async function groupNames(token: string, query = '?includeSystemCreated=true&level=10'): Promise<string[]> {
  const res = await t.call('GET', `/UserGroup${query}`, token);
  expect(res.statusCode, res.body).toBe(200);
  return res
    .json()
    .userGroups.map((g: { userGroupEntity: { userGroupName: string } }) => g.userGroupEntity.userGroupName);
}

async function members(token: string, id: number): Promise<string[]> {
  const res = await t.call('GET', `/UserGroup/${id}`, token);
  expect(res.json().userGroups, res.body).toBeDefined();
  return (res.json().userGroups[0].users ?? []).map((u: { userName: string }) => u.userName);
}

const groupId = async (companyId: number, name: string) =>
  (
    await t.store.db
      .selectFrom('user_groups')
      .select('id')
      .where('company_id', '=', companyId)
      .where('name', '=', name)
      .executeTakeFirstOrThrow()
  ).id;

const audits = (operation: string) =>
  t.store.db.selectFrom('audit_log').selectAll().where('operation', '=', operation).orderBy('seq').execute();
const auditCount = async () =>
  Number(
    (
      await t.store.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
const version = () => readAuthzVersion(t.store.db);

describe('GET UserGroup, GET V4/UserGroup', () => {
  it('lists groups with the keys cvpysdk reads, company groups as domain\\name', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const res = await t.call('GET', '/UserGroup?includeSystemCreated=true&level=10', admin);
    const body = res.json();
    expect(body.userGroups).toEqual([
      {
        userGroupEntity: { userGroupName: 'master', userGroupId: 1 },
        description: 'CommCell administrators',
        providerId: 0,
      },
      {
        userGroupEntity: { userGroupName: 'acme\\Tenant Admin', userGroupId: expect.any(Number) },
        description: '',
        providerId: a.companyId,
      },
      {
        userGroupEntity: { userGroupName: 'acme\\Tenant Users', userGroupId: expect.any(Number) },
        description: '',
        providerId: a.companyId,
      },
    ]);
    const v4 = (await t.call('GET', '/V4/UserGroup?includeSystemCreated=true&level=10', admin)).json();
    expect(v4.userGroups.map((g: { id: number; name: string }) => [g.id, g.name])).toEqual(
      body.userGroups.map((g: { userGroupEntity: { userGroupId: number; userGroupName: string } }) => [
        g.userGroupEntity.userGroupId,
        g.userGroupEntity.userGroupName,
      ]),
    );
  });

  it("a company's users see only its groups; the CommCell administrator filters by parentProvider/providerId", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    await addUser(a.token, 'acme\\worker');
    const worker = await t.login('acme\\worker', PW);
    for (const token of [a.token, worker]) {
      expect(await groupNames(token)).toEqual(['acme\\Tenant Admin', 'acme\\Tenant Users']);
      expect(await groupNames(token, `?parentProvider/providerId=${b.companyId}`)).toEqual([]);
      expect(await groupNames(token, '?parentProvider/providerId=0')).toEqual([]);
    }
    expect(await groupNames(b.token)).toEqual(['beta\\Tenant Admin', 'beta\\Tenant Users']);
    expect(await groupNames(admin, `?parentProvider/providerId=${a.companyId}`)).toEqual([
      'acme\\Tenant Admin',
      'acme\\Tenant Users',
    ]);
    expect(await groupNames(admin, '?parentProvider%2FproviderId=0')).toEqual(['master']);
    const v4 = (await t.call('GET', '/V4/UserGroup', b.token)).json();
    expect(v4.userGroups.map((g: { name: string }) => g.name)).toEqual(['beta\\Tenant Admin', 'beta\\Tenant Users']);
  });

  it('an empty list is {"userGroups":[]}, never {}, on both URLs and in XML', async () => {
    const a = await makeTenant(t, admin, 'acme');
    for (const path of ['/UserGroup', '/V4/UserGroup']) {
      for (const query of [
        '?includeSystemCreated=false',
        '?includeSystemCreated=0',
        `?parentProvider/providerId=999`,
      ]) {
        const res = await t.call('GET', `${path}${query}`, a.token);
        expect(res.statusCode).toBe(200);
        expect(res.json(), `${path}${query}`).toEqual({ userGroups: [] });
      }
    }
    const xml = await t.call('GET', '/UserGroup?includeSystemCreated=false', admin, undefined, {
      accept: 'application/xml',
    });
    expect(xml.statusCode).toBe(200);
    expect(xml.headers['content-type']).toMatch(/application\/xml/);
  });

  it("tolerates cvpysdk's query strings, a literal %s, unknown and repeated parameters", async () => {
    await makeTenant(t, admin, 'acme');
    const all = await groupNames(admin);
    for (const query of [
      '',
      '?includeSystemCreated=%s',
      '?includeSystemCreated=%25s',
      '?includeSystemCreated=true&level=10',
      '?includeSystemCreated=TRUE',
      '?parentProvider/providerId=%s',
      '?parentProvider/providerId=%25s',
      '?parentProvider/providerId=',
      '?parentProvider/providerId=-1',
      '?parentProvider/providerId=1e3',
      '?level=%s&Fl=userGroups.name&foo=bar&%zz=%zz',
      '?includeSystemCreated=true&includeSystemCreated=false',
      '?PARENTPROVIDER/PROVIDERID=x',
    ]) {
      for (const path of ['/UserGroup', '/V4/UserGroup']) {
        const res = await t.inject({ method: 'GET', url: `${BASE}${path}${query}`, headers: { authtoken: admin } });
        expect(res.statusCode, `${path}${query}`).toBe(200);
        expect(res.json().userGroups.length, `${path}${query}`).toBe(all.length);
      }
    }
  });

  it('answers on both mount points, case-insensitively, and in XML', async () => {
    for (const base of BASES) {
      for (const path of ['/UserGroup', '/usergroup', '//USERGROUP', '/v4/usergroup', '/UserGroup/1']) {
        const res = await t.inject({ method: 'GET', url: `${base}${path}`, headers: { authtoken: admin } });
        expect(res.statusCode, `${base}${path}`).toBe(200);
        expect(res.json().userGroups.length).toBe(1);
      }
    }
    const xml = await t.call('GET', '/UserGroup', admin, undefined, { accept: 'application/xml' });
    expect(xml.body).toMatch(/<userGroups [^>]*>\s*<userGroupEntity userGroupName="master" userGroupId="1"\/>/);
  });
});

describe('GET UserGroup/{id}', () => {
  it('shows the group and its members as cvpysdk UserGroup reads them', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const id = await groupId(a.companyId, 'Tenant Admin');
    const res = await t.call('GET', `/UserGroup/${id}`, a.token);
    expect(res.json()).toEqual({
      userGroups: [
        {
          userGroupEntity: { userGroupName: 'acme\\Tenant Admin', userGroupId: id },
          description: '',
          providerId: a.companyId,
          enabled: true,
          users: [
            { userName: 'acme\\boss', userId: expect.any(Number) },
            { userName: 'acme\\tadmin', userId: a.userId },
          ],
        },
      ],
    });
    const xml = await t.call('GET', `/UserGroup/${id}`, admin, undefined, { accept: 'application/xml' });
    expect(xml.body).toContain(`<users userName="acme\\tadmin" userId="${a.userId}"/>`);
  });

  it("other tenants' groups and bad ids are not found (1200), never refused", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    const betaGroup = await groupId(b.companyId, 'Tenant Users');
    for (const id of [String(betaGroup), '1', '999', 'abc', '0', '-1', '99999999999', '1%20']) {
      const res = await t.call('GET', `/UserGroup/${id}`, a.token);
      expect(res.statusCode, id).toBe(200);
      expect(res.json().errorCode, id).toBe(1200);
    }
  });

  it('reads write no audit record and move no version', async () => {
    const before = [await auditCount(), await version()];
    await t.call('GET', '/UserGroup', admin);
    await t.call('GET', '/V4/UserGroup', admin);
    await t.call('GET', '/UserGroup/1', admin);
    await t.call('GET', '/UserGroup/999', admin);
    expect([await auditCount(), await version()]).toEqual(before);
  });
});

describe('POST UserGroup', () => {
  it("creates a group from cvpysdk's exact body and URL; the SDK finds it by name and reads its members", async () => {
    const bob = await addUser(admin, 'bob');
    const v0 = await version();
    for (const url of ['/UserGroup?includeSystemCreated=%s', ADD_URL]) {
      const name = url.endsWith('%s') ? 'Ops' : 'Ops2';
      const res = await t.call('POST', url, admin, { groups: [sdkGroup(name, ['bob'])] });
      expect(res.statusCode).toBe(200);
      expect(res.json().response).toEqual([
        { errorCode: 0, errorString: '', entity: { userGroupName: name, userGroupId: expect.any(Number) } },
      ]);
    }
    const list = (await t.call('GET', '/UserGroup?includeSystemCreated=true&level=10', admin)).json().userGroups;
    const found = list.find(
      (g: { userGroupEntity: { userGroupName: string } }) => g.userGroupEntity.userGroupName.toLowerCase() === 'ops',
    );
    expect(await members(admin, found.userGroupEntity.userGroupId)).toEqual(['bob']);
    expect(await version()).toBe(v0 + 2);
    const [audit] = await audits('usergroup.create');
    expect(audit).toMatchObject({
      actor_name: 'admin',
      company_id: 0,
      target_name: 'Ops',
      target_id: String(found.userGroupEntity.userGroupId),
    });
    expect(JSON.parse(audit!.details)).toEqual({ description: '', members: ['bob'] });
    expect(bob).toEqual(expect.any(Number));
  });

  it('domain\\name creates in that company, with its users by name or id; a tenant admin creates in its own', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const worker = await addUser(a.token, 'acme\\worker');
    const ops = await addGroup(admin, 'ACME\\Ops', ['worker', 'acme\\tadmin']);
    expect(ops.userGroupName).toBe('acme\\Ops');
    expect(await members(a.token, ops.userGroupId)).toEqual(['acme\\tadmin', 'acme\\worker']);
    const res = await t.call('POST', '/UserGroup', a.token, {
      groups: [
        { userGroupEntity: { userGroupName: 'Night Shift' }, description: 'after hours', users: [{ userId: worker }] },
      ],
    });
    const entity = res.json().response[0].entity;
    expect(entity.userGroupName).toBe('acme\\Night Shift');
    expect((await t.call('GET', `/UserGroup/${entity.userGroupId}`, a.token)).json().userGroups[0]).toMatchObject({
      description: 'after hours',
      providerId: a.companyId,
      users: [{ userName: 'acme\\worker', userId: worker }],
    });
    expect(await groupNames(a.token)).toEqual([
      'acme\\Tenant Admin',
      'acme\\Tenant Users',
      'acme\\Ops',
      'acme\\Night Shift',
    ]);
    const audit = (await audits('usergroup.create'))[1];
    expect(audit).toMatchObject({ actor_name: 'acme\\tadmin', company_id: a.companyId });
  });

  it('takes an XML body with lone elements, and answers in XML on request', async () => {
    await addUser(admin, 'bob');
    const res = await t.call(
      'POST',
      ADD_URL,
      admin,
      '<App_CreateUserGroupRequest><groups description="from xml"><userGroupEntity userGroupName="XmlGroup"/><users userName="bob"/><securityAssociations/><localUserGroups/></groups></App_CreateUserGroupRequest>',
      { ...XML, accept: 'application/xml' },
    );
    expect(res.body).toMatch(
      /<response errorCode="0" errorString=""><entity userGroupName="XmlGroup" userGroupId="\d+"\/>/,
    );
    const id = Number(/userGroupId="(\d+)"/.exec(res.body)![1]);
    expect(await members(admin, id)).toEqual(['bob']);
    const two = await t.call(
      'POST',
      '/UserGroup',
      admin,
      '<App_CreateUserGroupRequest><groups><userGroupEntity userGroupName="X1"/></groups><groups><userGroupEntity userGroupName="X2"/><users userName="bob"/><users userName="admin"/></groups></App_CreateUserGroupRequest>',
      XML,
    );
    expect(two.json().response.map((r: { errorCode: number }) => r.errorCode)).toEqual([0, 0]);
    expect(await members(admin, two.json().response[1].entity.userGroupId)).toEqual(['admin', 'bob']);
  });

  it('answers every documented error per group, a bad one not stopping a good one', async () => {
    await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    await addUser(admin, 'cellbob');
    await addGroup(admin, 'Taken');
    const v0 = await version();
    const cases: Array<[Record<string, unknown>, number]> = [
      [sdkGroup('taken'), 1201],
      [sdkGroup('MASTER'), 1201],
      [sdkGroup('acme\\tenant admin'), 1201],
      [sdkGroup('Ghosts', ['nobody']), 1200],
      [sdkGroup('acme\\Mixed', ['beta\\tadmin']), 1200],
      [sdkGroup('acme\\Mixed', ['cellbob']), 1200],
      [sdkGroup('acme\\Mixed', ['commcell\\cellbob']), 1200],
      [{ ...sdkGroup('acme\\Mixed'), users: [{ userId: b.userId }] }, 1200],
      [{ ...sdkGroup('Mixed'), users: [{ userId: 99999 }] }, 1200],
      [{ ...sdkGroup('Mixed'), users: [{ userId: 1, userName: 'someoneelse' }] }, 1200],
      [sdkGroup('nosuch\\Group'), 1200],
      [sdkGroup('   '), 1204],
      [sdkGroup('acme\\'), 1204],
      [sdkGroup('a\\b\\c'), 1204],
      [sdkGroup('acme\\b\\c'), 1204],
      [sdkGroup('Tab\tName'), 1204],
      [sdkGroup('x'.repeat(129)), 1204],
      [sdkGroup('Nested', [], { localUserGroups: [{ userGroupName: 'master' }] }), 1204],
      [sdkGroup('External', [], { associatedExternalUserGroups: [{ userGroupName: 'ad\\g' }] }), 1204],
      [sdkGroup('Off', [], { enabled: false }), 1204],
    ];
    for (const [group, code] of cases) {
      const res = await t.call('POST', ADD_URL, admin, { groups: [group] });
      expect(res.statusCode, JSON.stringify(group)).toBe(200);
      expect(res.json().response[0].errorCode, JSON.stringify(group)).toBe(code);
      expect(res.json().errorCode).toBe(code);
    }
    expect(await version()).toBe(v0);
    expect(await audits('usergroup.create')).toHaveLength(1);
    const mixed = await t.call('POST', ADD_URL, admin, {
      groups: [sdkGroup('One'), sdkGroup('Two', ['nobody']), sdkGroup('Three', ['cellbob'])],
    });
    expect(mixed.json().response.map((r: { errorCode: number }) => r.errorCode)).toEqual([0, 1200, 0]);
    expect(await groupNames(admin, '?parentProvider/providerId=0')).toEqual(['master', 'Taken', 'One', 'Three']);
  });

  it('concurrent creations of one name: exactly one wins, the others answer 1201', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => t.call('POST', ADD_URL, admin, { groups: [sdkGroup('Racers')] })),
    );
    const codes = results.map((r) => r.json().response[0].errorCode).sort();
    expect(codes).toEqual([0, 1201, 1201, 1201, 1201, 1201]);
    expect(await audits('usergroup.create')).toHaveLength(1);
  });

  it("a tenant cannot reach another company's domain, and a plain user may not create (587204594, audited)", async () => {
    const a = await makeTenant(t, admin, 'acme');
    await makeTenant(t, admin, 'beta');
    const res = await t.call('POST', ADD_URL, a.token, { groups: [sdkGroup('beta\\Spy')] });
    expect(res.json().response[0].errorCode).toBe(1200);
    const toCell = await t.call('POST', ADD_URL, a.token, { groups: [sdkGroup('commcell\\Spy')] });
    expect(toCell.json().response[0].errorCode).toBe(1200);
    await addUser(a.token, 'acme\\worker');
    const worker = await t.login('acme\\worker', PW);
    const denied = await t.call('POST', ADD_URL, worker, { groups: [sdkGroup('Mine')] });
    expect(denied.json().response[0].errorCode).toBe(587204594);
    // The probes of other companies are refusals too (the second coalesced into the first's burst).
    const refusals = await audits('access.denied');
    expect(refusals.map((r) => JSON.parse(r.details).code)).toEqual([1200, 587204594]);
    await addUser(admin, 'plain');
    const plain = await t.login('plain', PW);
    const denied2 = await t.call('POST', ADD_URL, plain, { groups: [sdkGroup('Mine')] });
    expect(denied2.json().response[0].errorCode).toBe(587204594);
    expect(await audits('usergroup.create')).toEqual([]);
  });

  it('refuses malformed bodies with 400, never a 500', async () => {
    const bodies: unknown[] = [
      {},
      { groups: [] },
      { groups: 'Ops' },
      { groups: [{}] },
      { groups: [{ userGroupEntity: { userGroupName: 5 } }] },
      { groups: [{ userGroupEntity: { userGroupName: ['Ops'] } }] },
      { groups: [{ userGroupEntity: { userGroupName: '' } }] },
      { groups: [{ userGroupEntity: { userGroupName: 'x'.repeat(301) } }] },
      { groups: [{ userGroupEntity: { userGroupName: 'Ops' }, users: 'bob' }] },
      { groups: [{ userGroupEntity: { userGroupName: 'Ops' }, users: [{ userId: 'abc' }] }] },
      { groups: [{ userGroupEntity: { userGroupName: 'Ops' }, users: [{ userName: '' }] }] },
      { groups: [{ userGroupEntity: { userGroupName: 'Ops' }, description: 7 }] },
      { groups: [{ userGroupEntity: { userGroupName: 'Ops' }, securityAssociations: [] }] },
      { groups: Array.from({ length: 101 }, (_, i) => sdkGroup(`g${i}`)) },
    ];
    for (const body of bodies) {
      const res = await t.call('POST', ADD_URL, admin, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.json().response[0].errorCode).toBe(1000);
    }
    expect(
      (await t.call('POST', ADD_URL, admin, '{"groups":', { 'content-type': 'application/json' })).statusCode,
    ).toBe(400);
    expect((await t.call('POST', ADD_URL, admin, '<a><b></a>', XML)).json().errorCode).toBe(1001);
    expect((await t.call('POST', ADD_URL, admin, 'groups=1', { 'content-type': 'text/plain' })).statusCode).toBe(415);
  });
});

describe('POST UserGroup/{id}', () => {
  it("changes members with cvpysdk's update_usergroup_members bodies, by name or id, audited and versioned", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const w1 = await addUser(a.token, 'acme\\w1');
    await addUser(a.token, 'acme\\w2');
    await addUser(a.token, 'acme\\w3');
    const g = await addGroup(a.token, 'Crew', ['w1']);
    const path = `/UserGroup/${g.userGroupId}`;
    const v0 = await version();
    const add = await t.call(
      'POST',
      path,
      a.token,
      sdkMembers('UPDATE', [{ userName: 'acme\\w2' }, { userName: 'W3' }]),
    );
    expect(add.json()).toMatchObject({ response: [{ errorCode: 0, errorString: '' }], errorCode: 0 });
    expect(await members(a.token, g.userGroupId)).toEqual(['acme\\w1', 'acme\\w2', 'acme\\w3']);
    await t.call('POST', path, a.token, sdkMembers('DELETE', [{ userId: w1 }, { userName: 'w3' }]));
    expect(await members(a.token, g.userGroupId)).toEqual(['acme\\w2']);
    await t.call('POST', path, a.token, sdkMembers('OVERWRITE', [{ userName: 'w1' }, { userName: 'w3' }]));
    expect(await members(a.token, g.userGroupId)).toEqual(['acme\\w1', 'acme\\w3']);
    // The operation by name too; a DELETE of a non-member changes nothing.
    await t.call('POST', path, a.token, { groups: [{ usersOperationType: 'delete', users: [{ userName: 'w2' }] }] });
    expect(await members(a.token, g.userGroupId)).toEqual(['acme\\w1', 'acme\\w3']);
    expect(await version()).toBe(v0 + 4);
    const updates = await audits('usergroup.update');
    expect(updates.map((u) => JSON.parse(u.details))).toEqual([
      { membersAdded: ['acme\\w2', 'acme\\w3'], membersRemoved: [] },
      { membersAdded: [], membersRemoved: ['acme\\w1', 'acme\\w3'] },
      { membersAdded: ['acme\\w1', 'acme\\w3'], membersRemoved: ['acme\\w2'] },
      { membersAdded: [], membersRemoved: [] },
    ]);
    expect(updates[0]).toMatchObject({ company_id: a.companyId, target_name: 'Crew', actor_name: 'acme\\tadmin' });
  });

  it("an empty users list changes no members, whatever the operation (cvpysdk's associations-only update sends one)", async () => {
    await addUser(admin, 'bob');
    const g = await addGroup(admin, 'Ops', ['bob']);
    for (const op of ['OVERWRITE', 'DELETE', 'UPDATE'] as const) {
      const res = await t.call('POST', `/UserGroup/${g.userGroupId}`, admin, sdkMembers(op, []));
      expect(res.json().response[0].errorCode).toBe(0);
      expect(await members(admin, g.userGroupId)).toEqual(['bob']);
    }
    // status setter and disable_tfa: accepted, nothing to change.
    for (const body of [{ groups: [{ enabled: true }] }, { groups: [{ enableTwoFactorAuthentication: 0 }] }]) {
      expect((await t.call('POST', `/UserGroup/${g.userGroupId}`, admin, body)).json().errorCode).toBe(0);
    }
  });

  it('renames and describes; a built-in group keeps its name but its members may change', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const g = await addGroup(a.token, 'Crew');
    const path = `/UserGroup/${g.userGroupId}`;
    const renamed = await t.call('POST', path, a.token, { groups: [{ newName: 'Team', description: 'the team' }] });
    expect(renamed.json().response[0]).toMatchObject({
      errorCode: 0,
      entity: { userGroupName: 'acme\\Team', userGroupId: g.userGroupId },
    });
    await t.call('POST', path, a.token, {
      groups: [{ userGroupEntity: { userGroupName: 'acme\\Team Two', userGroupId: g.userGroupId } }],
    });
    expect(await groupNames(a.token)).toContain('acme\\Team Two');
    expect((await t.call('GET', path, a.token)).json().userGroups[0].description).toBe('the team');
    const [first] = await audits('usergroup.update');
    expect(JSON.parse(first!.details)).toMatchObject({ renamedFrom: 'Crew', description: 'the team' });

    const tenantAdmin = await groupId(a.companyId, 'Tenant Admin');
    for (const body of [
      { groups: [{ newName: 'Bosses' }] },
      { groups: [{ userGroupEntity: { userGroupName: 'acme\\Bosses' } }] },
    ]) {
      expect((await t.call('POST', `/UserGroup/${tenantAdmin}`, a.token, body)).json().response[0].errorCode).toBe(
        1204,
      );
    }
    // The same name, in any case, is not a rename.
    const same = await t.call('POST', `/UserGroup/${tenantAdmin}`, a.token, {
      groups: [{ userGroupEntity: { userGroupName: 'acme\\tenant admin' }, description: 'admins' }],
    });
    expect(same.json().response[0].errorCode).toBe(0);
    expect(await groupNames(a.token)).toContain('acme\\Tenant Admin');
  });

  it('adding to a built-in group grants its standing at once; removing takes it away, and revokes no token', async () => {
    const a = await makeTenant(t, admin, 'acme');
    await addUser(a.token, 'acme\\worker');
    const worker = await t.login('acme\\worker', PW);
    const tenantAdmin = await groupId(a.companyId, 'Tenant Admin');
    const create = () =>
      t.call('POST', ADD_URL, worker, { groups: [sdkGroup(`G${Math.random().toString(36).slice(2, 8)}`)] });
    expect((await create()).json().response[0].errorCode).toBe(587204594);
    const v0 = await version();
    await t.call('POST', `/UserGroup/${tenantAdmin}`, a.token, sdkMembers('UPDATE', [{ userName: 'worker' }]));
    expect(await version()).toBe(v0 + 1);
    expect((await create()).json().response[0].errorCode).toBe(0);
    await t.call('POST', `/UserGroup/${tenantAdmin}`, a.token, sdkMembers('DELETE', [{ userName: 'worker' }]));
    expect((await create()).json().response[0].errorCode).toBe(587204594);
    expect((await t.call('GET', '/WhoAmI', worker)).statusCode).toBe(200);
  });

  it('the master group keeps at least one enabled member', async () => {
    const root2Id = await addUser(admin, 'root2');
    const v0 = await version();
    const alone = await t.call('POST', '/UserGroup/1', admin, sdkMembers('DELETE', [{ userName: 'admin' }]));
    expect(alone.json().response[0].errorCode).toBe(1204);
    expect(await members(admin, 1)).toEqual(['admin']);
    expect(await version()).toBe(v0);
    // A disabled member does not count.
    await t.call('POST', '/UserGroup/1', admin, sdkMembers('UPDATE', [{ userName: 'root2' }]));
    await t.call('POST', `/User/${root2Id}`, admin, { users: [{ enableUser: false }] });
    const disabled = await t.call('POST', '/UserGroup/1', admin, sdkMembers('DELETE', [{ userName: 'admin' }]));
    expect(disabled.json().response[0].errorCode).toBe(1204);
    await t.call('POST', `/User/${root2Id}`, admin, { users: [{ enableUser: true }] });
    // Handing over to another enabled administrator is fine, and takes effect at once.
    const handover = await t.call('POST', '/UserGroup/1', admin, sdkMembers('OVERWRITE', [{ userName: 'root2' }]));
    expect(handover.json().response[0].errorCode).toBe(0);
    const root2 = await t.login('root2', PW);
    expect(await members(root2, 1)).toEqual(['root2']);
    const demoted = await t.call('POST', ADD_URL, admin, { groups: [sdkGroup('X')] });
    expect(demoted.json().response[0].errorCode).toBe(587204594);
    const last = await t.call('POST', '/UserGroup/1', root2, sdkMembers('DELETE', [{ userName: 'root2' }]));
    expect(last.json().response[0].errorCode).toBe(1204);
    expect(await members(root2, 1)).toEqual(['root2']);
  });

  it("refuses the documented errors; other tenants' groups are not found, never refused", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    await addUser(a.token, 'acme\\worker');
    await addUser(admin, 'cellbob');
    const worker = await t.login('acme\\worker', PW);
    const crew = await addGroup(a.token, 'Crew', ['worker']);
    await addGroup(a.token, 'Other');
    const betaGroup = await groupId(b.companyId, 'Tenant Users');
    const path = `/UserGroup/${crew.userGroupId}`;
    const v0 = await version();
    const cases: Array<[string, string, unknown, number]> = [
      [a.token, `/UserGroup/${betaGroup}`, sdkMembers('UPDATE', [{ userName: 'tadmin' }]), 1200],
      [a.token, '/UserGroup/1', sdkMembers('UPDATE', [{ userName: 'tadmin' }]), 1200],
      [a.token, '/UserGroup/99999', { groups: [{ description: 'x' }] }, 1200],
      [a.token, '/UserGroup/abc', { groups: [{ description: 'x' }] }, 1200],
      [worker, path, { groups: [{ description: 'x' }] }, 587204594],
      [a.token, path, sdkMembers('UPDATE', [{ userName: 'beta\\tadmin' }]), 1200],
      [a.token, path, sdkMembers('UPDATE', [{ userId: b.userId }]), 1200],
      [a.token, path, sdkMembers('OVERWRITE', [{ userName: 'tadmin' }, { userName: 'ghost' }]), 1200],
      [admin, path, sdkMembers('UPDATE', [{ userName: 'cellbob' }]), 1200],
      [a.token, path, { groups: [{ newName: 'other' }] }, 1201],
      [a.token, path, { groups: [{ newName: 'Tenant Users' }] }, 1201],
      [a.token, path, { groups: [{ newName: 'beta\\Crew' }] }, 1204],
      [a.token, path, { groups: [{ newName: ' ' }] }, 1204],
      [a.token, path, { groups: [{ userGroupEntity: { userGroupId: betaGroup }, description: 'x' }] }, 1204],
      [a.token, path, { groups: [{ usersOperationType: 9, users: [{ userName: 'tadmin' }] }] }, 1204],
      [a.token, path, { groups: [{ enabled: false }] }, 1204],
      [a.token, path, { groups: [{ enableTwoFactorAuthentication: 1 }] }, 1204],
      [a.token, path, { groups: [{ localUserGroups: [{ userGroupName: 'Other' }] }] }, 1204],
    ];
    for (const [token, url, body, code] of cases) {
      const res = await t.call('POST', url, token, body);
      expect(res.statusCode, `${url} ${JSON.stringify(body)}`).toBe(200);
      expect(res.json().response[0].errorCode, `${url} ${JSON.stringify(body)}`).toBe(code);
    }
    expect(await members(a.token, crew.userGroupId)).toEqual(['acme\\worker']);
    expect(await groupNames(a.token)).toContain('acme\\Crew');
    expect(await version()).toBe(v0);
    expect(await audits('usergroup.update')).toEqual([]);
    for (const body of [
      {},
      { groups: [] },
      { groups: [{}, {}] },
      { groups: [{ users: [{ userId: [1] }] }] },
      { groups: [{ newName: 3 }] },
    ]) {
      expect((await t.call('POST', path, a.token, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
  });

  it('takes an XML update', async () => {
    const a = await makeTenant(t, admin, 'acme');
    await addUser(a.token, 'acme\\worker');
    const g = await addGroup(a.token, 'Crew');
    const res = await t.call(
      'POST',
      `/UserGroup/${g.userGroupId}`,
      a.token,
      '<App_UpdateUserGroupRequest><groups usersOperationType="2" description="xml"><users userName="acme\\worker"/></groups></App_UpdateUserGroupRequest>',
      XML,
    );
    expect(res.json().response[0].errorCode, res.body).toBe(0);
    expect(await members(a.token, g.userGroupId)).toEqual(['acme\\worker']);
  });
});

describe('DELETE UserGroup/{id}', () => {
  it("deletes a group, its memberships and what it was granted, with cvpysdk's URL; audited and versioned", async () => {
    const a = await makeTenant(t, admin, 'acme');
    await addUser(a.token, 'acme\\worker');
    const g = await addGroup(a.token, 'Crew', ['worker']);
    await t.store.db.transaction().execute((tx) =>
      grant(
        tx,
        {
          entityType: 61,
          entityId: a.companyId,
          principalKind: 'group',
          principalId: g.userGroupId,
          roleId: 5,
          companyId: a.companyId,
        },
        new Date().toISOString(),
      ),
    );
    const v0 = await version();
    const res = await t.call('DELETE', `/UserGroup/${g.userGroupId}?newUserId=${a.userId}&newUserGroupId=0`, a.token);
    expect(res.json()).toEqual({ response: [{ errorCode: 0, errorString: '' }], errorCode: 0, errorMessage: '' });
    expect(await groupNames(a.token)).toEqual(['acme\\Tenant Admin', 'acme\\Tenant Users']);
    const db = t.store.db;
    expect(
      await db.selectFrom('user_group_members').selectAll().where('group_id', '=', g.userGroupId).execute(),
    ).toEqual([]);
    expect(
      await db
        .selectFrom('security_associations')
        .selectAll()
        .where('principal_kind', '=', 'group')
        .where('principal_id', '=', g.userGroupId)
        .execute(),
    ).toEqual([]);
    expect(await version()).toBe(v0 + 1);
    const [audit] = await audits('usergroup.delete');
    expect(audit).toMatchObject({ target_name: 'Crew', company_id: a.companyId, actor_name: 'acme\\tadmin' });
    expect(JSON.parse(audit!.details)).toEqual({ members: 1, associationsRemoved: 1 });
    expect((await t.call('DELETE', `/UserGroup/${g.userGroupId}`, a.token)).json().response[0].errorCode).toBe(1200);
    // The worker itself is untouched.
    expect((await t.call('GET', '/User', a.token)).json().users.length).toBe(3);
  });

  it("built-in groups cannot be deleted; other tenants' and unknown ids are not found; plain users are refused", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    await addUser(a.token, 'acme\\worker');
    const worker = await t.login('acme\\worker', PW);
    const crew = await addGroup(a.token, 'Crew');
    for (const [token, id, code] of [
      [admin, 1, 1204],
      [admin, await groupId(a.companyId, 'Tenant Admin'), 1204],
      [a.token, await groupId(a.companyId, 'Tenant Users'), 1204],
      [a.token, await groupId(b.companyId, 'Tenant Users'), 1200],
      [b.token, crew.userGroupId, 1200],
      [a.token, 1, 1200],
      [a.token, 99999, 1200],
      [worker, crew.userGroupId, 587204594],
    ] as const) {
      const res = await t.call('DELETE', `/UserGroup/${id}`, token);
      expect(res.json().response[0].errorCode, `${id}`).toBe(code);
    }
    const xml = await t.call('DELETE', '/UserGroup/1', admin, undefined, { accept: 'application/xml' });
    expect(xml.body).toMatch(/<App_UserGroupResp errorCode="1204"/);
    expect(await audits('usergroup.delete')).toEqual([]);
    expect(await groupNames(a.token)).toContain('acme\\Crew');
  });
});
