import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../src/audit/verify.js';
import { ADMIN_PASSWORD, BASE, b64, makeTenant, type TestApp, withApp } from './harness.js';

// Issue 9, findings 4 and 6, and the rule "one canonical identity per name",
// over HTTP on whichever store BULWARK_TEST_DB names.

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

const TENANT_PW = 'Tenant-Passw0rd!';

/** A login with the body as raw JSON text, so escapes such as `\ud800` arrive as sent. */
const loginRaw = (json: string) =>
  t.inject({ method: 'POST', url: `${BASE}/Login`, headers: { 'content-type': 'application/json' }, payload: json });
const login = (username: string, password: string) =>
  loginRaw(JSON.stringify({ mode: 4, username, password: b64(password), deviceId: 'dev', clientType: 30 }));

const expectChainIntact = async () => {
  const v = await verifyAudit(t.store.db);
  expect(v.problems).toEqual([]);
  expect(v.ok).toBe(true);
};

/** Five wrong passwords, each under the next spelling of the list (cycling). */
async function failFiveTimes(spellings: string[]) {
  let last: Record<string, unknown> = {};
  for (let i = 0; i < 5; i++) last = (await login(spellings[i % spellings.length] as string, 'wrong-password')).json();
  return last;
}

describe('finding 6: the lockout holds for every spelling of an account', () => {
  const ADMIN_SPELLINGS = ['admin', 'ADMIN', '\\admin', ' \\ admin', 'commcell\\admin', 'CommCell\\ Admin', ' admin\t'];

  it('admin locked: every spelling that names admin is refused with the right password', async () => {
    expect((await failFiveTimes(['admin'])).isAccountLocked).toBe(true);
    for (const name of ADMIN_SPELLINGS) {
      const r = (await login(name, ADMIN_PASSWORD)).json();
      expect(r.token, JSON.stringify(name)).toBeUndefined();
      expect(r.errList[0].errorCode, JSON.stringify(name)).toBe(1102);
      expect(r.isAccountLocked).toBe(true);
    }
    // The lock ends for all spellings at once.
    t.clock.advance(301_000);
    expect((await login('commcell\\admin', ADMIN_PASSWORD)).json().token).toMatch(/^QSDK /);
  });

  it('failures under rotating spellings count against the one account', async () => {
    for (let i = 0; i < 4; i++) {
      const r = (await login(ADMIN_SPELLINGS[i] as string, 'wrong-password')).json();
      expect(r.loginAttempts, ADMIN_SPELLINGS[i]).toBe(i + 1);
    }
    const fifth = (await login(ADMIN_SPELLINGS[4] as string, 'wrong-password')).json();
    expect(fifth.isAccountLocked).toBe(true);
    expect((await login('admin', ADMIN_PASSWORD)).json().errList[0].errorCode).toBe(1102);
  });

  it('acme\\victim locked: acme\\ victim, acme\\<TAB>victim and other spellings are refused', async () => {
    await makeTenant(t, admin, 'acme');
    const res = await t.call('POST', '/User', admin, {
      users: [{ userEntity: { userName: 'acme\\victim' }, email: 'victim@acme.example', password: b64(TENANT_PW) }],
    });
    expect(res.json().response[0].errorCode, res.body).toBe(0);
    expect((await login('acme\\victim', TENANT_PW)).json().token).toMatch(/^QSDK /);

    expect((await failFiveTimes(['acme\\victim'])).isAccountLocked).toBe(true);
    for (const name of ['acme\\victim', 'acme\\ victim', 'acme\\\tvictim', ' ACME \\ Victim ', 'Acme\\VICTIM\t']) {
      const r = (await login(name, TENANT_PW)).json();
      expect(r.token, JSON.stringify(name)).toBeUndefined();
      expect(r.errList[0].errorCode, JSON.stringify(name)).toBe(1102);
    }
  });

  it('a name that names no user locks the same way under all its spellings', async () => {
    expect((await failFiveTimes(['ghost', '\\GHOST', ' commcell\\ghost', 'Ghost\t'])).isAccountLocked).toBe(true);
    expect((await login('ghost', 'anything')).json().errList[0].errorCode).toBe(1102);
    expect((await failFiveTimes(['nosuch\\ghost', 'NOSUCH\\ ghost', ' nosuch \\Ghost'])).isAccountLocked).toBe(true);
    // Another name is not locked by them.
    expect((await login('other-ghost', 'anything')).json().errList[0].errorCode).toBe(1101);
  });

  it('wrong validation passwords lock the account itself, whatever spelling then logs in', async () => {
    const me = (await t.call('GET', '/WhoAmI', admin)).json().user.userId as number;
    let last = { errorCode: 0 };
    for (let i = 0; i < 5; i++) {
      const res = await t.call('POST', `/User/${me}`, admin, {
        users: [
          {
            userEntity: { userName: 'admin' },
            password: b64('Next-Passw0rd!'),
            validationParameters: { password: b64('not-my-password'), passwordOperationType: 2 },
          },
        ],
      });
      last = res.json();
    }
    expect(last.errorCode).toBe(1102);
    for (const name of ['admin', 'commcell\\admin', '\\admin']) {
      expect((await login(name, ADMIN_PASSWORD)).json().errList[0].errorCode, name).toBe(1102);
    }
  });

  it('the per-address throttle still counts every failure, whatever names are tried', async () => {
    for (let i = 0; i < 30; i++) await login(`name${i}`, 'wrong');
    expect((await login('admin', ADMIN_PASSWORD)).statusCode).toBe(429);
  });
});

describe('finding 4: the audit chain verifies whatever text arrives', () => {
  it('POST Login with a lone surrogate in the username (raw JSON escape) leaves a chain that verifies', async () => {
    const body = `{"mode":4,"username":"x\\ud800y","password":"${b64('wrong')}"}`;
    expect(body).toContain('x\\ud800y');
    const res = await loginRaw(body);
    expect(res.statusCode).toBe(200);
    expect(res.json().errList[0].errorCode).toBe(1101);
    await expectChainIntact();
    const row = await t.store.db
      .selectFrom('audit_log')
      .select(['actor_name'])
      .where('operation', '=', 'login')
      .where('outcome', '=', 'failure')
      .executeTakeFirstOrThrow();
    expect(row.actor_name).toBe('x\ufffdy');
  });

  it('lone surrogates of both kinds, NUL and controls in login names, until the account locks, all verify', async () => {
    const names = ['\\udc00', '\\ud83d', 'a\\u0000b', '\\u0000', 'acme\\\\\\ud800', '\\ud800\\\\x', 'z\\u202e\\u0001'];
    for (const n of names) {
      const res = await loginRaw(`{"username":"${n}","password":"${b64('wrong')}"}`);
      expect(res.statusCode, n).toBe(200);
      expect([1101, 1102]).toContain(res.json().errList[0].errorCode);
    }
    await expectChainIntact();
  });

  it('a device id holding NUL or a lone surrogate is stored well-formed, not a 500', async () => {
    const res = await loginRaw(
      `{"username":"admin","password":"${b64(ADMIN_PASSWORD)}","deviceId":"a\\u0000\\ud800b"}`,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json().token).toMatch(/^QSDK /);
    const row = await t.store.db
      .selectFrom('sessions')
      .select('device_id')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(row.device_id).toBe('a\ufffd\ufffdb');
    await expectChainIntact();
  });

  it('names refused by the name rule leave no record that breaks the chain; accepted odd text verifies', async () => {
    const bad = await t.inject({
      method: 'POST',
      url: `${BASE}/User`,
      headers: { authtoken: admin, 'content-type': 'application/json' },
      payload: '{"users":[{"userEntity":{"userName":"x\\ud800y"},"password":""}]}',
    });
    expect(bad.json().response[0].errorCode).toBe(1204);
    const entity = await t.inject({
      method: 'POST',
      url: `${BASE}/Entities`,
      headers: { authtoken: admin, 'content-type': 'application/json' },
      payload: '{"type":"client","name":"db\\udfff01"}',
    });
    expect(entity.json().errorCode).toBe(1204);
    // Descriptions keep line breaks; they are hashed and stored as given.
    const ok = await t.call('POST', '/UserGroup', admin, {
      groups: [{ userGroupEntity: { userGroupName: 'Ops' }, description: 'line 1\nline 2\t💾' }],
    });
    expect(ok.json().response[0].errorCode, ok.body).toBe(0);
    await expectChainIntact();
  });
});

describe('names refuse control, lone surrogate, invisible and bidi characters (1204, naming the field)', () => {
  const BAD: Array<[string, string]> = [
    ['x\ud800y', 'a lone surrogate (U+D800)'],
    ['ad\u200bmin', 'an invisible character (U+200B)'],
    ['evil\u202egpj', 'a bidirectional formatting character (U+202E)'],
    ['tab\tname', 'a control character (U+0009)'],
    ['nul\u0000name', 'a control character (U+0000)'],
    ['bom\ufeffname', 'an invisible character (U+FEFF)'],
    ['iso\u2066late', 'a bidirectional formatting character (U+2066)'],
    ['nb\u00a0sp', 'a space or separator other than U+0020 (U+00A0)'],
  ];

  it('user names (POST User)', async () => {
    for (const [name, what] of BAD) {
      const res = await t.call('POST', '/User', admin, {
        users: [{ userEntity: { userName: name }, email: 'x@example.com', password: b64(TENANT_PW) }],
      });
      expect(res.json().response[0], JSON.stringify(name)).toMatchObject({
        errorCode: 1204,
        errorString: `users[0].userEntity.userName contains ${what}`,
      });
    }
    const users = (await t.call('GET', '/User', admin)).json().users as Array<{ userEntity: { userName: string } }>;
    expect(users.map((u) => u.userEntity.userName)).toEqual(['admin']);
  });

  it('user group names and descriptions (POST UserGroup, POST UserGroup/{id})', async () => {
    for (const [name, what] of BAD) {
      const res = await t.call('POST', '/UserGroup', admin, { groups: [{ userGroupEntity: { userGroupName: name } }] });
      expect(res.json().response[0], JSON.stringify(name)).toMatchObject({
        errorCode: 1204,
        errorString: `groups[0].userGroupEntity.userGroupName contains ${what}`,
      });
    }
    const desc = await t.call('POST', '/UserGroup', admin, {
      groups: [{ userGroupEntity: { userGroupName: 'Fine' }, description: 'see \u202eyou' }],
    });
    expect(desc.json().response[0]).toMatchObject({
      errorCode: 1204,
      errorString: expect.stringMatching(/description/),
    });
    const ok = await t.call('POST', '/UserGroup', admin, { groups: [{ userGroupEntity: { userGroupName: 'Fine' } }] });
    const id = ok.json().response[0].entity.userGroupId as number;
    const rename = await t.call('POST', `/UserGroup/${id}`, admin, { groups: [{ newName: 'Fi\u200dne' }] });
    expect(rename.json().errorCode).toBe(1204);
    expect(rename.json().response[0].errorString).toBe('groups[0].newName contains an invisible character (U+200D)');
    const redesc = await t.call('POST', `/UserGroup/${id}`, admin, { groups: [{ description: 'a\u0007b' }] });
    expect(redesc.json().errorCode).toBe(1204);
  });

  it('role names and descriptions (POST Role, POST Role/{id})', async () => {
    const role = (roleName: string, description?: string) => ({
      roles: [
        {
          role: { roleName },
          ...(description === undefined ? {} : { description }),
          categoryPermission: { categoriesPermissionList: [{ permissionName: 'View' }] },
        },
      ],
    });
    for (const [name, what] of BAD) {
      const res = await t.call('POST', '/Role', admin, role(name));
      expect(res.json().response[0], JSON.stringify(name)).toMatchObject({
        errorCode: 1204,
        errorString: `roles[0].role.roleName contains ${what}`,
      });
    }
    expect((await t.call('POST', '/Role', admin, role('Fine', '\ud800'))).json().response[0].errorCode).toBe(1204);
    const ok = await t.call('POST', '/Role', admin, role('Fine'));
    const id = ok.json().response[0].entity.roleId as number;
    const rename = await t.call('POST', `/Role/${id}`, admin, { roles: [{ role: { roleName: 'Fi\u2069ne' } }] });
    expect(rename.json().errorCode).toBe(1204);
  });

  it('entity names (POST Entities, POST Entities/Import, rename)', async () => {
    for (const [name, what] of BAD) {
      const res = await t.call('POST', '/Entities', admin, { type: 'client', name });
      expect(res.json(), JSON.stringify(name)).toMatchObject({
        errorCode: 1204,
        errorMessage: `name contains ${what}`,
      });
    }
    const lines = [
      { type: 'clientGroup', name: 'Servers' },
      { type: 'client', name: 'db01', clientGroups: ['Serv\u200bers'] },
      { type: 'agent', name: 'File System', parent: { type: 'client', name: 'db\u202e01' } },
    ];
    const imp = await t.inject({
      method: 'POST',
      url: `${BASE}/Entities/Import?partial=1`,
      headers: { authtoken: admin, 'content-type': 'application/x-ndjson', accept: 'application/json' },
      payload: lines.map((l) => JSON.stringify(l)).join('\n'),
    });
    const body = imp.json();
    expect(body.imported, imp.body).toBe(1);
    expect(body.errors).toEqual([
      { line: 2, message: 'clientGroups[0] contains an invisible character (U+200B)' },
      { line: 3, message: 'parent.name contains a bidirectional formatting character (U+202E)' },
    ]);
    const id = body.results[0].entityId as number;
    const rename = await t.call('POST', `/Entities/clientGroup/${id}`, admin, { name: 'Serv\u2060ers' });
    expect(rename.json()).toMatchObject({
      errorCode: 1204,
      errorMessage: 'name contains an invisible character (U+2060)',
    });
  });

  it('company names and descriptions (POST Organization)', async () => {
    const org = (connectName: string, description = '', email = 'boss@acme.example') =>
      t.call('POST', '/Organization', admin, {
        organizationInfo: {
          organization: { connectName, description, shortName: { domainName: 'acme' } },
          organizationProperties: { primaryContacts: [{ fullName: 'Boss', email }] },
        },
      });
    const bad = await org('Acme\u202e Inc');
    expect(bad.json().response).toMatchObject({
      errorCode: 1204,
      errorMessage: 'organizationInfo.organization.connectName contains a bidirectional formatting character (U+202E)',
    });
    expect((await org('Acme', 'x\u0000y')).json().response.errorCode).toBe(1204);
    // A contact's user is named after its email.
    expect((await org('Acme', '', 'bo\u200bss@acme.example')).json().response.errorCode).toBe(1204);
    expect((await t.call('GET', '/Organization', admin)).json().providers).toEqual([]);
    expect((await org('  Acme Inc  ', 'line 1\nline 2')).json().response.errorCode).toBe(0);
  });
});

describe('one canonical form per name', () => {
  it('a name is stored in NFC and found under any composition and case', async () => {
    const res = await t.call('POST', '/User', admin, {
      users: [{ userEntity: { userName: 'Jose\u0301' }, email: 'jose@example.com', password: b64(TENANT_PW) }],
    });
    expect(res.json().response[0].entity.userName).toBe('José');
    expect((await login('JOSÉ', TENANT_PW)).json().token).toMatch(/^QSDK /);
    expect((await login('jose\u0301', TENANT_PW)).json().token).toMatch(/^QSDK /);
    const again = await t.call('POST', '/User', admin, {
      users: [{ userEntity: { userName: 'josé' }, email: 'jose2@example.com', password: b64(TENANT_PW) }],
    });
    expect(again.json().response[0].errorCode).toBe(1201);
  });

  it('a user group named with a decomposed accent is the same group as the composed one', async () => {
    const one = await t.call('POST', '/UserGroup', admin, {
      groups: [{ userGroupEntity: { userGroupName: 'Équipe' } }],
    });
    expect(one.json().response[0].errorCode).toBe(0);
    const two = await t.call('POST', '/UserGroup', admin, {
      groups: [{ userGroupEntity: { userGroupName: 'E\u0301QUIPE' } }],
    });
    expect(two.json().response[0].errorCode).toBe(1201);
  });
});
