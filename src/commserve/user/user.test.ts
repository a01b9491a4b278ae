import { describe, expect, it, vi } from 'vitest';
import { ADMIN_PASSWORD, BASE, BASES, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

const TENANT_PW = 'Tenant-Passw0rd!';

/** Exactly what the newer cvpysdk `Users.add(user_name, email, full_name, password=..., local_usergroups=...)` sends. */
function sdkUser(
  userName: string,
  password: string | null,
  groups: string[] = [],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const email = `${userName.replace(/.*\\/, '')}@users.example`;
  return {
    password: password === null ? '' : b64(password),
    email,
    UPN: email,
    fullName: `${userName} Person`,
    systemGeneratePassword: password === null,
    userEntity: { userName },
    securityAssociations: {},
    associatedUserGroups: groups.length === 0 ? [{}] : groups.map((g) => ({ userGroupName: g })),
    ...extra,
  };
}

const addUsers = (token: string, ...users: Array<Record<string, unknown>>) => t.call('POST', '/User', token, { users });

async function addOk(token: string, userName: string, password: string | null, groups: string[] = []) {
  const res = await addUsers(token, sdkUser(userName, password, groups));
  expect(res.statusCode).toBe(200);
  const item = res.json().response[0];
  expect(item.errorCode, res.body).toBe(0);
  return item.entity as { userName: string; userId: number };
}

const loginRaw = (username: string, password: string) =>
  t.inject({
    method: 'POST',
    url: `${BASE}/Login`,
    payload: { mode: 4, username, password: b64(password), deviceId: 'dev', clientType: 30 },
  });

const canLogin = async (username: string, password: string) =>
  typeof (await loginRaw(username, password)).json().token === 'string';

const whoAmI = async (token: string) => (await t.call('GET', '/WhoAmI', token)).statusCode;

/** The body cvpysdk's `User.update_user_password(new, logged_in_password)` posts. */
const passwordBody = (userName: string, next: string, mine?: string) => ({
  users: [
    {
      userEntity: { userName: userName.toLowerCase() },
      password: b64(next),
      validationParameters: { ...(mine === undefined ? {} : { password: b64(mine) }), passwordOperationType: 2 },
    },
  ],
});

const names = (body: { users: Array<{ userEntity: { userName: string } }> }) =>
  body.users.map((u) => u.userEntity.userName);
const v4Names = (body: { users: Array<{ name: string }> }) => body.users.map((u) => u.name);

describe('GET User and GET v4/user', () => {
  it('lists users with the keys cvpysdk reads, in both shapes', async () => {
    const bob = await addOk(admin, 'bob', 'Bob-Passw0rd!');
    const res = await t.call('GET', '/User', admin);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(names(body)).toEqual(['admin', 'bob']);
    expect(body.users[1].userEntity).toMatchObject({ userName: 'bob', userId: bob.userId });
    const v4 = await t.call('GET', '/v4/user?additionalProperties=true', admin);
    expect(v4.statusCode).toBe(200);
    const v4body = v4.json();
    expect(v4body.users).toContainEqual(expect.objectContaining({ name: 'bob', id: bob.userId }));
    // Never a password or hash of any kind.
    expect(res.body + v4.body).not.toMatch(/argon2|password/i);
  });

  it('answers on both mount points, case-insensitively, and in XML on request', async () => {
    for (const base of BASES) {
      for (const path of ['/User', '/user', '//USER', '/V4/User?additionalProperties=true']) {
        const res = await t.inject({ method: 'GET', url: `${base}${path}`, headers: { authtoken: admin } });
        expect(res.statusCode, `${base}${path}`).toBe(200);
        expect(res.json().users.length, `${base}${path}`).toBe(1);
      }
    }
    const xml = await t.call('GET', '/User', admin, undefined, { accept: 'application/xml' });
    expect(xml.headers['content-type']).toMatch(/application\/xml/);
    expect(xml.body).toMatch(/<users [^>]*>\s*<userEntity [^>]*userName="admin"/);
  });

  it('the CommCell administrator sees everyone, a tenant admin its company, a plain user only itself', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    await addOk(a.token, 'worker', 'Worker-Passw0rd!');
    await addOk(admin, 'plain', 'Plain-Passw0rd!');

    const all = names((await t.call('GET', '/User', admin)).json());
    expect(all).toEqual(
      expect.arrayContaining(['admin', 'plain', 'acme\\tadmin', 'acme\\worker', 'beta\\tadmin', 'acme\\boss']),
    );

    for (const path of ['/User', '/v4/user?additionalProperties=true']) {
      const body = (await t.call('GET', path, a.token)).json();
      const list = path === '/User' ? names(body) : v4Names(body);
      expect(list.sort(), path).toEqual(['acme\\boss', 'acme\\tadmin', 'acme\\worker']);
      const bList = (await t.call('GET', path, b.token)).json();
      expect((path === '/User' ? names(bList) : v4Names(bList)).sort(), path).toEqual(['beta\\boss', 'beta\\tadmin']);
    }

    const worker = await t.login('acme\\worker', 'Worker-Passw0rd!');
    expect(names((await t.call('GET', '/User', worker)).json())).toEqual(['acme\\worker']);
    expect(v4Names((await t.call('GET', '/v4/user', worker)).json())).toEqual(['acme\\worker']);
    const plain = await t.login('plain', 'Plain-Passw0rd!');
    expect(names((await t.call('GET', '/User', plain)).json())).toEqual(['plain']);
    expect(v4Names((await t.call('GET', '/v4/user', plain)).json())).toEqual(['plain']);
  });
});

describe('POST User', () => {
  it('takes one permission view for the whole request, however many users it creates', async () => {
    const spy = vi.spyOn(t.ctx.authz, 'current');
    const res = await addUsers(
      admin,
      ...['u1', 'u2', 'u3'].map((n) => ({
        userEntity: { userName: n },
        email: `${n}@x.example`,
        password: b64('Some-Passw0rd!'),
      })),
    );
    expect(res.json().response.map((r: { errorCode: number }) => r.errorCode)).toEqual([0, 0, 0]);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('creates a CommCell user from the exact cvpysdk body and answers {"response":[{errorCode,entity}]}', async () => {
    const res = await addUsers(admin, sdkUser('bob', 'Bob-Passw0rd!'));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.response).toHaveLength(1);
    expect(body.response[0]).toMatchObject({
      errorCode: 0,
      entity: { userName: 'bob', userId: expect.any(Number) },
    });
    // The SDK re-lists with v4 and looks the new user up by entity.userName (lower-cased).
    const entity = body.response[0].entity;
    const v4 = (await t.call('GET', '/v4/user?additionalProperties=true', admin)).json();
    const found = v4.users.find((u: { name: string }) => u.name.toLowerCase() === entity.userName.toLowerCase());
    expect(found?.id).toBe(entity.userId);
    // Then GET User/{id}?Level=50.
    const props = (await t.call('GET', `/User/${entity.userId}?Level=50`, admin)).json().users[0];
    expect(props).toMatchObject({
      userEntity: { userName: 'bob', userId: entity.userId },
      email: 'bob@users.example',
      fullName: 'bob Person',
      enableUser: true,
    });
    expect(await canLogin('bob', 'Bob-Passw0rd!')).toBe(true);
    // The password was taken as base64: the base64 text itself is not the password.
    expect(await canLogin('bob', b64('Bob-Passw0rd!'))).toBe(false);
  });

  it('creates a user without a password when systemGeneratePassword is set; no password logs it in', async () => {
    const bob = await addOk(admin, 'bob', null);
    expect(bob.userId).toEqual(expect.any(Number));
    expect(await canLogin('bob', '')).toBe(false);
    expect(await canLogin('bob', 'anything-at-all')).toBe(false);
  });

  it('adds the user to groups named in associatedUserGroups', async () => {
    const a = await makeTenant(t, admin, 'acme');
    // cvpysdk's Users.add with local_usergroups, by the CommCell admin, inside the company.
    const boss2 = await addOk(admin, 'acme\\boss2', 'Boss2-Passw0rd!', ['Tenant Admin']);
    const props = (await t.call('GET', `/User/${boss2.userId}`, a.token)).json().users[0];
    expect(props.associatedUserGroups.map((g: { userGroupName: string }) => g.userGroupName)).toEqual(['Tenant Admin']);
    // ...and so it now administers the company.
    const token = await t.login('acme\\boss2', 'Boss2-Passw0rd!');
    expect(names((await t.call('GET', '/User', token)).json()).length).toBeGreaterThan(1);
    // Several groups, case-insensitively.
    const multi = await addOk(a.token, 'multi', 'Multi-Passw0rd!', ['tenant users', 'TENANT ADMIN']);
    const groups = (await t.call('GET', `/User/${multi.userId}`, admin)).json().users[0].associatedUserGroups;
    expect(groups.map((g: { userGroupName: string }) => g.userGroupName).sort()).toEqual([
      'Tenant Admin',
      'Tenant Users',
    ]);
  });

  it('`domain\\name` creates the user inside that company, where it logs in as domain\\name', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const bob = await addOk(admin, 'ACME\\bob', 'Bob-Passw0rd!');
    const row = await t.store.db
      .selectFrom('users')
      .select(['company_id', 'user_name'])
      .where('id', '=', bob.userId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ company_id: a.companyId, user_name: 'bob' });
    expect(await canLogin('acme\\bob', 'Bob-Passw0rd!')).toBe(true);
    expect(await canLogin('bob', 'Bob-Passw0rd!')).toBe(false); // not a CommCell user
    expect(names((await t.call('GET', '/User', a.token)).json())).toContain('acme\\bob');
    const v4 = v4Names((await t.call('GET', '/v4/user', admin)).json()).map((n) => n.toLowerCase());
    expect(v4).toContain(bob.userName.toLowerCase());
  });

  it("a tenant admin's bare name creates inside its company, and the entity names the user as the v4 list does", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const carol = await addOk(a.token, 'carol', 'Carol-Passw0rd!');
    const row = await t.store.db
      .selectFrom('users')
      .select('company_id')
      .where('id', '=', carol.userId)
      .executeTakeFirstOrThrow();
    expect(row.company_id).toBe(a.companyId);
    expect(await canLogin('acme\\carol', 'Carol-Passw0rd!')).toBe(true);
    // cvpysdk: `users.get(response[0].entity.userName)` after re-listing with v4 (keys lower-cased).
    const v4 = v4Names((await t.call('GET', '/v4/user?additionalProperties=true', a.token)).json());
    expect(v4.map((n) => n.toLowerCase())).toContain(carol.userName.toLowerCase());
  });

  it('answers 1201 per item for a duplicate name (case-insensitive), and creates the others', async () => {
    await addOk(admin, 'bob', 'Bob-Passw0rd!');
    const res = await addUsers(admin, sdkUser('BOB', 'Bob-Passw0rd!'), sdkUser('dave', 'Dave-Passw0rd!'));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.response).toHaveLength(2);
    expect(body.response[0].errorCode).toBe(1201);
    expect(body.response[0].errorString).toEqual(expect.any(String));
    expect(body.response[1]).toMatchObject({ errorCode: 0, entity: { userName: 'dave' } });
    const all = names((await t.call('GET', '/User', admin)).json());
    expect(all).toEqual(['admin', 'bob', 'dave']);
    // The same name in another company is a different user.
    await makeTenant(t, admin, 'acme');
    await addOk(admin, 'acme\\bob', 'Bob-Passw0rd!');
  });

  it('lets exactly one of several concurrent creates of one name through; the rest get 1201, never 500', async () => {
    const results = await Promise.all(
      ['racer', 'RACER', 'Racer'].map((n) => addUsers(admin, sdkUser(n, 'Racer-Passw0rd!'))),
    );
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.json().response[0].errorCode).sort()).toEqual([0, 1201, 1201]);
    expect(names((await t.call('GET', '/User', admin)).json())).toHaveLength(2);
  });

  it('answers 1202 for a password that breaks the policy, and creates nothing', async () => {
    for (const pw of ['short', '        ', 'x'.repeat(257), '']) {
      const res = await addUsers(admin, sdkUser('weak', pw));
      expect(res.json().response[0].errorCode, JSON.stringify(pw)).toBe(1202);
    }
    // systemGeneratePassword does not let a weak password through when one is given.
    const both = await addUsers(admin, sdkUser('weak', 'x', [], { systemGeneratePassword: true }));
    expect(both.json().response[0].errorCode).toBe(1202);
    expect(names((await t.call('GET', '/User', admin)).json())).toEqual(['admin']);
  });

  it('answers 1200 for an unknown group, and for a group of another company', async () => {
    await makeTenant(t, admin, 'acme');
    await makeTenant(t, admin, 'beta');
    const unknown = await addUsers(admin, sdkUser('bob', 'Bob-Passw0rd!', ['No Such Group']));
    expect(unknown.json().response[0].errorCode).toBe(1200);
    // A CommCell user cannot be put in a company's group, nor a company's user in the CommCell's master group.
    const cross = await addUsers(admin, sdkUser('bob', 'Bob-Passw0rd!', ['acme\\Tenant Admin']));
    expect(cross.json().response[0].errorCode).toBe(1200);
    const master = await addUsers(admin, sdkUser('acme\\bob', 'Bob-Passw0rd!', ['master']));
    expect(master.json().response[0].errorCode).toBe(1200);
    // Naming beta's group for an acme user does not quietly mean acme's group of that name.
    const other = await addUsers(admin, sdkUser('acme\\bob', 'Bob-Passw0rd!', ['beta\\Tenant Admin']));
    expect(other.json().response[0].errorCode).toBe(1200);
    const rows = await t.store.db.selectFrom('users').select('user_name').where('user_name', '=', 'bob').execute();
    expect(rows).toEqual([]);
  });

  it('a tenant admin creating in another company gets 1200, and nothing is created there', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    for (const name of ['beta\\spy', 'BETA\\spy', 'Commcell\\spy', 'nosuch\\spy']) {
      const res = await addUsers(a.token, sdkUser(name, 'Spy-Passw0rd!'));
      expect(res.statusCode).toBe(200);
      expect(res.json().response[0].errorCode, name).toBe(1200);
    }
    const rows = await t.store.db.selectFrom('users').select('company_id').where('user_name', '=', 'spy').execute();
    expect(rows).toEqual([]);
    expect(names((await t.call('GET', '/User', b.token)).json())).not.toContain('beta\\spy');
  });

  it('a plain user creating gets 587204594', async () => {
    const a = await makeTenant(t, admin, 'acme');
    await addOk(a.token, 'worker', 'Worker-Passw0rd!');
    await addOk(admin, 'plain', 'Plain-Passw0rd!');
    const worker = await t.login('acme\\worker', 'Worker-Passw0rd!');
    const plain = await t.login('plain', 'Plain-Passw0rd!');
    for (const [token, name] of [
      [worker, 'made'],
      [worker, 'acme\\made'],
      [plain, 'made'],
    ] as const) {
      const res = await addUsers(token, sdkUser(name, 'Made-Passw0rd!'));
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.response[0].errorCode, name).toBe(587204594);
      expect(body.response[0].errorString).toBe('You do not have sufficient privileges for this operation');
    }
    const rows = await t.store.db.selectFrom('users').select('id').where('user_name', '=', 'made').execute();
    expect(rows).toEqual([]);
  });

  it('refuses bad input with 400: bad base64, bad names, no users', async () => {
    const notB64 = await addUsers(admin, { ...sdkUser('bob', 'x'), password: '***not base64***' });
    expect(notB64.statusCode).toBe(400);
    expect(notB64.json().errorCode).toBe(1004);
    for (const body of [
      {},
      { users: [] },
      { users: [{ email: 'x@y.z' }] },
      { users: [{ userEntity: { userName: '' } }] },
    ]) {
      const res = await t.call('POST', '/User', admin, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    for (const name of ['a\\b\\c', 'acme\\', 'bad:name', 'bad/name']) {
      const res = await addUsers(admin, sdkUser(name, 'Good-Passw0rd!'));
      expect(res.json().response[0].errorCode, name).not.toBe(0);
    }
  });

  it('accepts the XML form, with the password in plain text', async () => {
    const res = await t.call(
      'POST',
      '/User',
      admin,
      '<App_CreateUserRequest><users password="Xml-Passw0rd!" email="x@x.example" fullName="X Ml"><userEntity userName="xml"/></users></App_CreateUserRequest>',
      { 'content-type': 'application/xml' },
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().response[0]).toMatchObject({ errorCode: 0, entity: { userName: 'xml' } });
    expect(await canLogin('xml', 'Xml-Passw0rd!')).toBe(true);
    // Two users in one message, one with a single group element, answered in XML.
    await makeTenant(t, admin, 'acme');
    const two = await t.call(
      'POST',
      '/User',
      admin,
      '<App_CreateUserRequest>' +
        '<users password="Xml2-Passw0rd!"><userEntity userName="acme\\xml2"/><associatedUserGroups userGroupName="Tenant Users"/></users>' +
        '<users password="Xml3-Passw0rd!"><userEntity userName="xml3"/></users>' +
        '</App_CreateUserRequest>',
      { 'content-type': 'application/xml', accept: 'application/xml' },
    );
    expect(two.headers['content-type']).toMatch(/application\/xml/);
    expect(two.body.match(/<response [^>]*errorCode="0"/g)).toHaveLength(2);
    const xml2 = await t.store.db
      .selectFrom('users')
      .select('id')
      .where('user_name', '=', 'xml2')
      .executeTakeFirstOrThrow();
    const groups = (await t.call('GET', `/User/${xml2.id}`, admin)).json().users[0].associatedUserGroups;
    expect(groups.map((g: { userGroupName: string }) => g.userGroupName)).toEqual(['Tenant Users']);
    expect(await canLogin('acme\\xml2', 'Xml2-Passw0rd!')).toBe(true);
  });
});

describe('GET User/{id}', () => {
  it('answers {"users":[{...}]} with the properties cvpysdk reads', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const res = await t.call('GET', `/User/${a.userId}?Level=50`, admin);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['users']);
    expect(body.users).toHaveLength(1);
    const u = body.users[0];
    expect(u.userEntity).toMatchObject({ userName: 'acme\\tadmin', userId: a.userId, userGUID: expect.any(String) });
    expect(u.email).toBe('tadmin@acme.example');
    expect(u.enableUser).toBe(true);
    expect(u.associatedUserGroups).toEqual([expect.objectContaining({ userGroupName: 'Tenant Admin' })]);
    expect(Array.isArray(u.securityAssociations.associations)).toBe(true);
    expect(JSON.stringify(u)).not.toMatch(/argon2|password/i);
  });

  it("hides other companies' users and, from a plain user, everyone else: 1200 as for an unknown id", async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    const worker = await addOk(a.token, 'worker', 'Worker-Passw0rd!');
    const workerToken = await t.login('acme\\worker', 'Worker-Passw0rd!');
    const adminId = (await t.call('GET', '/WhoAmI', admin)).json().user.userId;
    const nowhere = (await t.call('GET', '/User/424242', a.token)).body;
    for (const [token, id] of [
      [a.token, b.userId],
      [a.token, adminId],
      [b.token, worker.userId],
      [workerToken, a.userId],
      [workerToken, adminId],
    ] as const) {
      const res = await t.call('GET', `/User/${id}`, token);
      expect(res.statusCode).toBe(200);
      expect(res.json().errorCode).toBe(1200);
      expect(res.body).toBe(nowhere);
    }
    // What each may see.
    expect((await t.call('GET', `/User/${worker.userId}`, a.token)).json().users[0].userEntity.userId).toBe(
      worker.userId,
    );
    expect((await t.call('GET', `/User/${worker.userId}`, workerToken)).json().users[0].userEntity.userId).toBe(
      worker.userId,
    );
    for (const id of ['abc', '-1', '99999999999999999999', '1.5']) {
      expect((await t.call('GET', `/User/${id}`, admin)).json().errorCode, id).toBe(1200);
    }
  });
});

describe('POST User/{id}: password change', () => {
  async function withBob() {
    const bob = await addOk(admin, 'bob', 'Bob-Passw0rd!');
    const t1 = await t.login('bob', 'Bob-Passw0rd!');
    const t2 = await t.login('bob', 'Bob-Passw0rd!');
    return { ...bob, t1, t2 };
  }

  it("changes the password as cvpysdk sends it, and revokes ALL of that user's tokens", async () => {
    const bob = await withBob();
    const res = await t.call(
      'POST',
      `/User/${bob.userId}?Level=50`,
      admin,
      passwordBody('bob', 'Bob-N3w-Passw0rd!', ADMIN_PASSWORD),
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // cvpysdk indexes both response[0].errorCode and response[0].errorString.
    expect(body.response[0]).toEqual({ errorCode: 0, errorString: '' });
    expect(await whoAmI(bob.t1)).toBe(401);
    expect(await whoAmI(bob.t2)).toBe(401);
    expect(await whoAmI(admin)).toBe(200); // the caller's session is not the target's
    expect(await canLogin('bob', 'Bob-Passw0rd!')).toBe(false);
    expect(await canLogin('bob', 'Bob-N3w-Passw0rd!')).toBe(true);
  });

  it('revokes tokens on a second node too (no stale cache beyond the database)', async () => {
    const bob = await withBob();
    await t.call('POST', `/User/${bob.userId}`, admin, passwordBody('bob', 'Bob-N3w-Passw0rd!', ADMIN_PASSWORD));
    const rows = await t.store.db
      .selectFrom('sessions')
      .select('revoked_at')
      .where('user_id', '=', bob.userId)
      .execute();
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.revoked_at !== null)).toBe(true);
  });

  it('lets a user change its own password with its own current password; its token dies too', async () => {
    const bob = await withBob();
    const res = await t.call(
      'POST',
      `/User/${bob.userId}`,
      bob.t1,
      passwordBody('bob', 'Bob-N3w-Passw0rd!', 'Bob-Passw0rd!'),
    );
    expect(res.json().response[0].errorCode).toBe(0);
    expect(await whoAmI(bob.t1)).toBe(401);
    expect(await canLogin('bob', 'Bob-N3w-Passw0rd!')).toBe(true);
  });

  it('a wrong validation password is 1203 and nothing changes', async () => {
    const bob = await withBob();
    for (const mine of ['Wrong-Passw0rd!', 'Bob-Passw0rd!']) {
      // The target's password is no proof of who the admin is.
      const res = await t.call('POST', `/User/${bob.userId}`, admin, passwordBody('bob', 'Bob-N3w-Passw0rd!', mine));
      expect(res.statusCode).toBe(200);
      expect(res.json().response[0].errorCode).toBe(1203);
      expect(res.json().response[0].errorString).toEqual(expect.any(String));
    }
    expect(await whoAmI(bob.t1)).toBe(200);
    expect(await whoAmI(bob.t2)).toBe(200);
    expect(await canLogin('bob', 'Bob-Passw0rd!')).toBe(true);
    expect(await canLogin('bob', 'Bob-N3w-Passw0rd!')).toBe(false);
  });

  it('guessing the validation password locks the caller like failed logins do, and ends its sessions', async () => {
    const bob = await withBob();
    const guess = (token: string, mine: string) =>
      t.call('POST', `/User/${bob.userId}`, token, passwordBody('bob', 'Bob-N3w-Passw0rd!', mine));
    for (let i = 0; i < 4; i++)
      expect((await guess(bob.t1, `Guess-${i}-Passw0rd`)).json().response[0].errorCode).toBe(1203);
    const fifth = (await guess(bob.t1, 'Guess-4-Passw0rd')).json();
    expect(fifth.response[0].errorCode).toBe(1102);
    expect(await whoAmI(bob.t1)).toBe(401);
    expect(await whoAmI(bob.t2)).toBe(401);
    // Locked: even the right password does not log in until the lock ends.
    expect(await canLogin('bob', 'Bob-Passw0rd!')).toBe(false);
    t.clock.advance(301_000);
    const fresh = await t.login('bob', 'Bob-Passw0rd!');
    expect((await guess(fresh, 'Bob-Passw0rd!')).json().response[0].errorCode).toBe(0);
    const ops = await t.store.db
      .selectFrom('audit_log')
      .select('operation')
      .where('operation', '=', 'account.lock')
      .execute();
    expect(ops).toHaveLength(1);
  });

  it('a missing or empty validation password is 1203 and nothing changes', async () => {
    const bob = await withBob();
    const missing = await t.call('POST', `/User/${bob.userId}`, admin, passwordBody('bob', 'Bob-N3w-Passw0rd!'));
    expect(missing.json().response[0].errorCode).toBe(1203);
    const noParams = await t.call('POST', `/User/${bob.userId}`, admin, {
      users: [{ userEntity: { userName: 'bob' }, password: b64('Bob-N3w-Passw0rd!') }],
    });
    expect(noParams.json().response[0].errorCode).toBe(1203);
    const empty = await t.call('POST', `/User/${bob.userId}`, admin, passwordBody('bob', 'Bob-N3w-Passw0rd!', ''));
    expect(empty.json().response[0].errorCode).toBe(1203);
    expect(await whoAmI(bob.t1)).toBe(200);
    expect(await canLogin('bob', 'Bob-Passw0rd!')).toBe(true);
  });

  it('a weak new password is 1202 and nothing changes', async () => {
    const bob = await withBob();
    const res = await t.call('POST', `/User/${bob.userId}`, admin, passwordBody('bob', 'short', ADMIN_PASSWORD));
    expect(res.json().response[0].errorCode).toBe(1202);
    expect(await whoAmI(bob.t1)).toBe(200);
    expect(await canLogin('bob', 'Bob-Passw0rd!')).toBe(true);
  });

  it('a tenant admin resets a user of its own company, but not one of another company (1200)', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const b = await makeTenant(t, admin, 'beta');
    const w = await addOk(a.token, 'worker', 'Worker-Passw0rd!');
    const wToken = await t.login('acme\\worker', 'Worker-Passw0rd!');
    const ok = await t.call(
      'POST',
      `/User/${w.userId}`,
      a.token,
      passwordBody('worker', 'Worker-N3w-Passw0rd!', TENANT_PW),
    );
    expect(ok.json().response[0].errorCode).toBe(0);
    expect(await whoAmI(wToken)).toBe(401);
    expect(await canLogin('acme\\worker', 'Worker-N3w-Passw0rd!')).toBe(true);

    const adminId = (await t.call('GET', '/WhoAmI', admin)).json().user.userId;
    for (const id of [b.userId, adminId]) {
      const res = await t.call('POST', `/User/${id}`, a.token, passwordBody('x', 'Taken-Over-Passw0rd!', TENANT_PW));
      expect(res.statusCode).toBe(200);
      expect(res.json().response[0].errorCode).toBe(1200);
    }
    expect(await canLogin('beta\\tadmin', TENANT_PW)).toBe(true);
    expect(await canLogin('admin', ADMIN_PASSWORD)).toBe(true);
    expect(await whoAmI(b.token)).toBe(200);
  });

  it("a plain user cannot change another user's password", async () => {
    const a = await makeTenant(t, admin, 'acme');
    await addOk(a.token, 'worker', 'Worker-Passw0rd!');
    const wToken = await t.login('acme\\worker', 'Worker-Passw0rd!');
    const res = await t.call(
      'POST',
      `/User/${a.userId}`,
      wToken,
      passwordBody('tadmin', 'Taken-Over-Passw0rd!', 'Worker-Passw0rd!'),
    );
    expect(res.json().response[0].errorCode).toBe(1200);
    expect(await canLogin('acme\\tadmin', TENANT_PW)).toBe(true);
  });

  it('takes the XML form with plain-text passwords', async () => {
    const bob = await withBob();
    const xml = `<App_UpdateUserPropertiesRequest><users password="Bob-Xml-Passw0rd!"><userEntity userName="bob"/><validationParameters password="${ADMIN_PASSWORD}" passwordOperationType="2"/></users></App_UpdateUserPropertiesRequest>`;
    const res = await t.call('POST', `/User/${bob.userId}`, admin, xml, { 'content-type': 'application/xml' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().response[0].errorCode).toBe(0);
    expect(await whoAmI(bob.t1)).toBe(401);
    expect(await canLogin('bob', 'Bob-Xml-Passw0rd!')).toBe(true);
    // XML answers XML when asked, and a wrong validation password is refused there too.
    const wrong = await t.call(
      'POST',
      `/User/${bob.userId}`,
      admin,
      '<App_UpdateUserPropertiesRequest><users password="Bob-Other-Passw0rd!"><validationParameters password="nope-nope" passwordOperationType="2"/></users></App_UpdateUserPropertiesRequest>',
      { 'content-type': 'application/xml', accept: 'application/xml' },
    );
    expect(wrong.headers['content-type']).toMatch(/application\/xml/);
    expect(wrong.body).toMatch(/errorCode="1203"/);
    expect(await canLogin('bob', 'Bob-Xml-Passw0rd!')).toBe(true);
  });
});

describe('POST User/{id}: enable and disable', () => {
  it('disabling (enableUser false, as cvpysdk sends it) revokes tokens and blocks login with 1104; enabling restores it', async () => {
    const bob = await addOk(admin, 'bob', 'Bob-Passw0rd!');
    const token = await t.login('bob', 'Bob-Passw0rd!');
    const res = await t.call('POST', `/User/${bob.userId}?Level=50`, admin, { users: [{ enableUser: false }] });
    expect(res.json().response[0]).toEqual({ errorCode: 0, errorString: '' });
    expect(await whoAmI(token)).toBe(401);
    const login = (await loginRaw('bob', 'Bob-Passw0rd!')).json();
    expect(login.token).toBeUndefined();
    expect(login.errList[0].errorCode).toBe(1104);
    expect((await t.call('GET', `/User/${bob.userId}`, admin)).json().users[0].enableUser).toBe(false);
    // A wrong password on a disabled account still says only "invalid".
    expect((await loginRaw('bob', 'Wrong-Passw0rd!')).json().errList[0].errorCode).toBe(1101);

    await t.call('POST', `/User/${bob.userId}`, admin, { users: [{ enableUser: true }] });
    expect(await canLogin('bob', 'Bob-Passw0rd!')).toBe(true);
  });

  it('a tenant admin disables a user of its own company; nobody disables itself', async () => {
    const a = await makeTenant(t, admin, 'acme');
    const w = await addOk(a.token, 'worker', 'Worker-Passw0rd!');
    const wToken = await t.login('acme\\worker', 'Worker-Passw0rd!');
    expect(
      (await t.call('POST', `/User/${w.userId}`, a.token, { users: [{ enableUser: false }] })).json().response[0]
        .errorCode,
    ).toBe(0);
    expect(await whoAmI(wToken)).toBe(401);
    const self = await t.call('POST', `/User/${a.userId}`, a.token, { users: [{ enableUser: false }] });
    expect(self.json().response[0].errorCode).not.toBe(0);
    expect(await whoAmI(a.token)).toBe(200);
  });

  it('a plain user cannot disable another user of its company', async () => {
    const a = await makeTenant(t, admin, 'acme');
    await addOk(a.token, 'worker', 'Worker-Passw0rd!');
    const wToken = await t.login('acme\\worker', 'Worker-Passw0rd!');
    const res = await t.call('POST', `/User/${a.userId}`, wToken, { users: [{ enableUser: false }] });
    expect(res.json().response[0].errorCode).not.toBe(0);
    expect(await whoAmI(a.token)).toBe(200);
  });

  it('takes booleans and numbers sent as strings in JSON too (DESIGN §3)', async () => {
    const bob = await addOk(admin, 'bob', 'Bob-Passw0rd!');
    for (const [value, enabled] of [
      ['false', false],
      ['1', true],
      ['0', false],
      ['true', true],
    ] as const) {
      const res = await t.call('POST', `/User/${bob.userId}`, admin, { users: [{ enableUser: value }] });
      expect(res.statusCode, `${value}: ${res.body}`).toBe(200);
      expect(res.json().response[0].errorCode).toBe(0);
      expect((await t.call('GET', `/User/${bob.userId}`, admin)).json().users[0].enableUser, value).toBe(enabled);
    }
    const change = passwordBody('bob', 'Bob-N3w-Passw0rd!', ADMIN_PASSWORD) as any;
    change.users[0].validationParameters.passwordOperationType = '2';
    expect((await t.call('POST', `/User/${bob.userId}`, admin, change)).json().response[0].errorCode).toBe(0);
    expect(await canLogin('bob', 'Bob-N3w-Passw0rd!')).toBe(true);
    const generated = await addUsers(admin, sdkUser('gen', null, [], { systemGeneratePassword: 'true' }));
    expect(generated.json().response[0].errorCode).toBe(0);
    const notGenerated = await addUsers(admin, sdkUser('gen2', null, [], { systemGeneratePassword: 'false' }));
    expect(notGenerated.json().response[0].errorCode).toBe(1202); // no password and none to generate
    const bogus = await t.call('POST', `/User/${bob.userId}`, admin, { users: [{ enableUser: 'maybe' }] });
    expect(bogus.statusCode).toBe(400);
  });

  it('takes enableUser as an XML attribute string', async () => {
    const bob = await addOk(admin, 'bob', 'Bob-Passw0rd!');
    const res = await t.call(
      'POST',
      `/User/${bob.userId}`,
      admin,
      '<App_UpdateUserPropertiesRequest><users enableUser="false"/></App_UpdateUserPropertiesRequest>',
      { 'content-type': 'application/xml' },
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().response[0].errorCode).toBe(0);
    expect((await loginRaw('bob', 'Bob-Passw0rd!')).json().errList[0].errorCode).toBe(1104);
  });
});
