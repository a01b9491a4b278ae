import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { BASE, BASES, b64, DIALECT, makeTenant, type TestApp, withApp } from '../../../../test/harness.js';
import { ACCOUNT_POLICY } from '../../../domain/lockout.js';
import { accountOf, addChain, addRecord, chainAt, parseStrict, recordOf, setAccount, snapshot } from './fixtures.js';
import { APPLIED_MESSAGE } from './routes.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

// The seed's sample request and replies, verbatim (commvault-user-account-management.txt).
const SEED_REQUEST = `<GuiServer_ModifyCredsReq preview="0" reason="" skipPasswordCheck="0"> <processinginstructioninfo/> <credsInfo> <oldCredentials password="Password001" userName="prodcert\\admin"/> <newCredentials password="Password002" userName="prodcert\\admin"/> <associations _type_="2"/> </credsInfo>
</GuiServer_ModifyCredsReq>`;
const SEED_APPLIED = `<App_GenericResp errorMessage="User names/Passwords have been updated.  Consult Audit Trail for details." errorCode="0" />`;
const SEED_PREVIEW = `<GuiServer_ModifyCredsResp> <credentialChanges changes="UNC path user password"> <entities> <entity subclientId="34" applicationId="33" clientName="pmirje-server" backupsetId="28" instanceId="1" clientId="2" subclientName="default" backupsetName="cred_test_0" instanceName="DefaultInstanceName" _type_="7" appName="File System" /> </entities> </credentialChanges> <credentialChanges changes="User password for [password]"> <entities> <credEntity _type_="174" credentialId="11" credentialName="prd_test001" /> </entities> </credentialChanges>
</GuiServer_ModifyCredsResp>`;

/** The seed's text as our writer puts it: no blanks between elements, `/>` without a space, an XML declaration. */
const canonical = (xml: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>${xml
    .replace(/>\s+</g, '><')
    .replace(/\s+\/>/g, '/>')
    .trim()}`;

const URL_PATH = '/User/AccountManagement';

function postXml(body: string, token = admin, accept = 'application/xml') {
  return t.inject({
    method: 'POST',
    url: `${BASE}${URL_PATH}`,
    headers: { authtoken: token, 'content-type': 'application/xml', accept },
    payload: body,
  });
}

const post = (body: unknown, token = admin) => t.call('POST', URL_PATH, token, body);

/** A JSON request as the seed documents it: passwords base64. */
const jsonReq = (o: {
  preview: 0 | 1;
  oldUser: string;
  oldPassword?: string;
  newUser?: string;
  newPassword?: string;
  skip?: 0 | 1;
  reason?: string;
}) => ({
  GuiServer_ModifyCredsReq: {
    preview: o.preview,
    reason: o.reason ?? '',
    skipPasswordCheck: o.skip ?? 0,
    processinginstructioninfo: {},
    credsInfo: {
      oldCredentials: {
        userName: o.oldUser,
        ...(o.oldPassword === undefined ? {} : { password: b64(o.oldPassword) }),
      },
      newCredentials: {
        ...(o.newUser === undefined ? {} : { userName: o.newUser }),
        ...(o.newPassword === undefined ? {} : { password: b64(o.newPassword) }),
      },
      associations: { _type_: 2 },
    },
  },
});

const codeOf = (res: { json(): any }) => res.json().errorCode as number;

async function auditOps(): Promise<Array<{ operation: string; outcome: string; reason: string; details: string }>> {
  return t.store.db
    .selectFrom('audit_log')
    .select(['operation', 'outcome', 'reason', 'details'])
    .where('operation', 'in', ['credential.account-management', 'account-management.lock'])
    .orderBy('seq')
    .execute();
}

/** The seed's estate: subclient 34 (client 2 "pmirje-server", instance 1, backup set 28) and record 11 "prd_test001". */
async function seedEstate() {
  await addChain(
    t,
    0,
    { client: 2, agent: 3, instance: 1, backupSet: 28, subclient: 34 },
    {
      client: 'pmirje-server',
      backupSet: 'cred_test_0',
    },
  );
  await setAccount(t, 34, 'subclientUnc', 0, 'prodcert\\admin', 'Password001');
  for (let i = 1; i <= 10; i++) await addRecord(t, 0, `filler${i}`, `other\\user${i}`, 'Filler-Passw0rd');
  expect(await addRecord(t, 0, 'prd_test001', 'PRODCERT\\Admin', 'Password001')).toBe(11);
}

describe('POST User/AccountManagement: the seed', () => {
  it('answers the sample preview verbatim and changes nothing', async () => {
    await seedEstate();
    const before = await snapshot(t);
    const audits = (await auditOps()).length;
    for (const base of BASES) {
      const res = await t.inject({
        method: 'POST',
        url: `${base}//user/accountmanagement`,
        headers: { authtoken: admin, 'content-type': 'application/xml', accept: 'application/xml' },
        payload: SEED_REQUEST.replace('preview="0"', 'preview="1"'),
      });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(canonical(SEED_PREVIEW));
      expect(parseStrict(res.body)[0]?.name).toBe('GuiServer_ModifyCredsResp');
    }
    expect(await snapshot(t)).toEqual(before);
    expect((await auditOps()).length).toBe(audits);
  });

  it('applies the sample: both accounts get Password002 in one audited change, answered verbatim', async () => {
    await seedEstate();
    const res = await postXml(SEED_REQUEST.replace('reason=""', 'reason="rotated in AD &amp; vault"'));
    expect(res.body).toBe(canonical(SEED_APPLIED));
    parseStrict(res.body);
    expect(await accountOf(t, 34, 'subclientUnc')).toEqual({ userName: 'prodcert\\admin', password: 'Password002' });
    // The stored spelling stays: the new name is the same account.
    expect(await recordOf(t, 11)).toEqual({ userName: 'PRODCERT\\Admin', password: 'Password002' });
    expect(await recordOf(t, 1)).toEqual({ userName: 'other\\user1', password: 'Filler-Passw0rd' });
    const audits = await auditOps();
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ outcome: 'success', reason: 'rotated in AD & vault' });
    const details = JSON.parse(audits[0]?.details ?? '{}');
    expect(details).toMatchObject({ count: 2, passwordChanged: true, skipPasswordCheck: false });
    expect(details.entities).toEqual([
      { type: 'subclient', id: 34, account: 'subclientUnc', companyId: 0 },
      { type: 'credential', id: 11, name: 'prd_test001', companyId: 0 },
    ]);
    expect(audits[0]?.details).not.toMatch(/Password00[12]|UGFzc3dvcmQwMD/);
    // The old password no longer matches anything.
    expect(codeOf(await postXml(SEED_REQUEST, admin, 'application/json'))).toBe(1203);
  });

  it('takes the JSON form: base64 passwords, wrapped or bare, `_`-prefixed keys, reply in JSON', async () => {
    await seedEstate();
    const wrapped = jsonReq({
      preview: 1,
      oldUser: 'prodcert\\admin',
      oldPassword: 'Password001',
      newUser: 'prodcert\\admin',
      newPassword: 'Password002',
    });
    const preview = await post(wrapped);
    expect(preview.json()).toEqual({
      credentialChanges: [
        {
          changes: 'UNC path user password',
          entities: {
            entity: [
              {
                subclientId: 34,
                applicationId: 33,
                clientName: 'pmirje-server',
                backupsetId: 28,
                instanceId: 1,
                clientId: 2,
                subclientName: 'default',
                backupsetName: 'cred_test_0',
                instanceName: 'DefaultInstanceName',
                _type_: 7,
                appName: 'File System',
              },
            ],
          },
        },
        {
          changes: 'User password for [password]',
          entities: { credEntity: [{ _type_: 174, credentialId: 11, credentialName: 'prd_test001' }] },
        },
      ],
    });
    // Bare, with the product's `_`-prefixed attribute keys and numbers as strings.
    const inner = wrapped.GuiServer_ModifyCredsReq;
    const bare = {
      _preview: '0',
      _reason: 'json',
      _skipPasswordCheck: '0',
      credsInfo: {
        oldCredentials: { _userName: 'admin@prodcert', _password: inner.credsInfo.oldCredentials.password },
        newCredentials: inner.credsInfo.newCredentials,
      },
    };
    const applied = await post(bare);
    expect(applied.json()).toEqual({ errorMessage: APPLIED_MESSAGE, errorCode: 0 });
    expect((await accountOf(t, 34, 'subclientUnc'))?.password).toBe('Password002');
    expect((await recordOf(t, 11))?.password).toBe('Password002');
  });
});

describe('matching', () => {
  it('`DOMAIN\\user`, `user@domain` and case are one account; bare, other domains and DNS names are not', async () => {
    const ids = [100, 110, 120, 130, 140, 150];
    const names = [
      'PRODCERT\\Admin',
      'admin@PRODCERT',
      ' prodcert \\ admin ',
      'admin',
      'admin@prodcert.example.com',
      'other\\admin',
    ];
    for (const [i, base] of ids.entries()) {
      await addChain(t, 0, chainAt(base), { client: `c${base}` });
      await setAccount(t, base, 'clientImpersonation', 0, names[i] as string, 'Old-Passw0rd');
    }
    const res = await post(
      jsonReq({ preview: 0, oldUser: 'prodcert\\ADMIN', oldPassword: 'Old-Passw0rd', newPassword: 'New-Passw0rd' }),
    );
    expect(codeOf(res)).toBe(0);
    const after = await Promise.all(ids.map(async (id) => (await accountOf(t, id, 'clientImpersonation'))?.password));
    expect(after).toEqual([
      'New-Passw0rd',
      'New-Passw0rd',
      'New-Passw0rd',
      'Old-Passw0rd',
      'Old-Passw0rd',
      'Old-Passw0rd',
    ]);
  });

  it('changes only the accounts holding the old password; a new user name moves them to it', async () => {
    const c = await addChain(t, 0, chainAt(200), { client: 'web01' });
    await setAccount(t, c.subclient, 'subclientUnc', 0, 'corp\\svc', 'Same-Passw0rd');
    await setAccount(t, c.instance, 'instanceImpersonation', 0, 'corp\\svc', 'Same-Passw0rd');
    await setAccount(t, c.client, 'clientImpersonation', 0, 'corp\\svc', 'Stale-Passw0rd');
    const rec = await addRecord(t, 0, 'svc', 'svc@corp', 'Same-Passw0rd');
    const preview = await post(
      jsonReq({
        preview: 1,
        oldUser: 'corp\\svc',
        oldPassword: 'Same-Passw0rd',
        newUser: 'corp\\svc2',
        newPassword: 'Next-Passw0rd',
      }),
    );
    const groups = preview.json().credentialChanges as Array<{ changes: string; entities: Record<string, unknown[]> }>;
    expect(groups.map((g) => g.changes)).toEqual([
      'UNC path user password',
      'Instance impersonation user password',
      'User password for [password]',
      'UNC path user name',
      'Instance impersonation user name',
      'User name for [user name]',
    ]);
    expect(groups[1]?.entities.entity).toEqual([
      {
        instanceId: c.instance,
        applicationId: 33,
        clientName: 'web01',
        clientId: c.client,
        instanceName: 'DefaultInstanceName',
        _type_: 5,
        appName: 'File System',
      },
    ]);
    const xml = await postXml(
      `<GuiServer_ModifyCredsReq preview="1" reason="" skipPasswordCheck="0"><credsInfo><oldCredentials password="Same-Passw0rd" userName="corp\\svc"/><newCredentials password="Next-Passw0rd" userName="corp\\svc2"/></credsInfo></GuiServer_ModifyCredsReq>`,
    );
    expect(parseStrict(xml.body).filter((e) => e.name === 'credentialChanges')).toHaveLength(6);
    expect(
      codeOf(
        await post(
          jsonReq({
            preview: 0,
            oldUser: 'corp\\svc',
            oldPassword: 'Same-Passw0rd',
            newUser: 'corp\\svc2',
            newPassword: 'Next-Passw0rd',
          }),
        ),
      ),
    ).toBe(0);
    expect(await accountOf(t, c.subclient, 'subclientUnc')).toEqual({
      userName: 'corp\\svc2',
      password: 'Next-Passw0rd',
    });
    expect(await accountOf(t, c.instance, 'instanceImpersonation')).toEqual({
      userName: 'corp\\svc2',
      password: 'Next-Passw0rd',
    });
    expect(await accountOf(t, c.client, 'clientImpersonation')).toEqual({
      userName: 'corp\\svc',
      password: 'Stale-Passw0rd',
    });
    expect(await recordOf(t, rec)).toEqual({ userName: 'corp\\svc2', password: 'Next-Passw0rd' });
    // The moved accounts answer to the new name now.
    const again = await post(
      jsonReq({ preview: 1, oldUser: 'svc2@corp', oldPassword: 'Next-Passw0rd', newPassword: 'Third-Passw0rd' }),
    );
    expect(again.json().credentialChanges).toHaveLength(3);
  });

  it('a user-name change alone needs no new password', async () => {
    const c = await addChain(t, 0, chainAt(300), { client: 'db01' });
    await setAccount(t, c.client, 'clientImpersonation', 0, 'corp\\old', 'Keep-Passw0rd');
    const res = await post(
      jsonReq({ preview: 0, oldUser: 'corp\\old', oldPassword: 'Keep-Passw0rd', newUser: 'corp\\new' }),
    );
    expect(codeOf(res)).toBe(0);
    expect(await accountOf(t, c.client, 'clientImpersonation')).toEqual({
      userName: 'corp\\new',
      password: 'Keep-Passw0rd',
    });
  });
});

describe('errors: each catalogued, nothing changed', () => {
  async function estate() {
    const c = await addChain(t, 0, chainAt(400), { client: 'fs01' });
    await setAccount(t, c.subclient, 'subclientUnc', 0, 'corp\\svc', 'Right-Passw0rd');
    await addRecord(t, 0, 'svc', 'corp\\svc', 'Right-Passw0rd');
    return c;
  }

  it('answers each error with its code, and the store is as it was', async () => {
    await estate();
    const before = await snapshot(t);
    const ok = {
      preview: 0 as const,
      oldUser: 'corp\\svc',
      oldPassword: 'Right-Passw0rd',
      newPassword: 'Next-Passw0rd',
    };
    const cases: Array<[string, () => Promise<{ json(): any; statusCode: number }>, number]> = [
      ['nothing matched', () => post(jsonReq({ ...ok, oldUser: 'corp\\nobody' })), 1501],
      ['old password wrong', () => post(jsonReq({ ...ok, oldPassword: 'Wrong-Passw0rd' })), 1203],
      ['empty new password', () => post(jsonReq({ ...ok, newPassword: '' })), 1202],
      ['short new password', () => post(jsonReq({ ...ok, newPassword: 'short' })), 1202],
      ['blank new password', () => post(jsonReq({ ...ok, newPassword: '          ' })), 1202],
      ['no new password nor name', () => post(jsonReq({ ...ok, newPassword: undefined })), 1000],
      [
        'same account as the new name only',
        () => post(jsonReq({ ...ok, newPassword: undefined, newUser: 'SVC@corp' })),
        1000,
      ],
      ['empty old user name', () => post(jsonReq({ ...ok, oldUser: '' })), 1000],
      ['blank old user name', () => post(jsonReq({ ...ok, oldUser: '   ' })), 1000],
      ['a domain and no user', () => post(jsonReq({ ...ok, oldUser: 'corp\\' })), 1204],
      ['no old password', () => post(jsonReq({ ...ok, oldPassword: undefined })), 1000],
      ['no preview', () => post({ credsInfo: jsonReq(ok).GuiServer_ModifyCredsReq.credsInfo }), 1000],
      ['no credsInfo', () => post({ preview: 1 }), 1000],
      [
        'bad base64',
        () => post({ preview: 1, credsInfo: { oldCredentials: { userName: 'corp\\svc', password: '%%%' } } }),
        1004,
      ],
      [
        'associations of another type',
        () =>
          post({
            ...jsonReq(ok).GuiServer_ModifyCredsReq,
            credsInfo: { ...jsonReq(ok).GuiServer_ModifyCredsReq.credsInfo, associations: { _type_: 3 } },
          }),
        1204,
      ],
      ['a user name with a control character', () => post(jsonReq({ ...ok, oldUser: 'corp\\sv\u0007c' })), 1204],
      [
        'malformed JSON',
        () => t.call('POST', URL_PATH, admin, '{"preview":', { 'content-type': 'application/json' }),
        1002,
      ],
      [
        'malformed XML',
        () => postXml('<GuiServer_ModifyCredsReq preview="1"><credsInfo>', admin, 'application/json'),
        1001,
      ],
      ['another message', () => postXml('<App_GenericResp errorCode="0"/>', admin, 'application/json'), 1007],
      [
        'a DOCTYPE',
        () =>
          postXml(
            '<!DOCTYPE x [<!ENTITY e "corp\\svc">]><GuiServer_ModifyCredsReq preview="0"/>',
            admin,
            'application/json',
          ),
        1003,
      ],
      ['preview not a flag', () => post({ ...jsonReq(ok).GuiServer_ModifyCredsReq, preview: 'yes' }), 1000],
      [
        'password as an object',
        () => post({ preview: 1, credsInfo: { oldCredentials: { userName: 'corp\\svc', password: { a: 1 } } } }),
        1000,
      ],
    ];
    for (const [name, call, code] of cases) {
      const res = await call();
      expect(res.statusCode, name).toBeLessThan(500);
      expect(res.json().errorCode, `${name}: ${JSON.stringify(res.json())}`).toBe(code);
    }
    expect(await snapshot(t)).toEqual(before);
    // One failure record per wrong old password, never a password in any record.
    const audits = await auditOps();
    expect(audits.map((a) => a.outcome)).toEqual(['failure']);
    const all = await t.store.db.selectFrom('audit_log').select('details').execute();
    expect(JSON.stringify(all)).not.toMatch(/Passw0rd|UGFzc3cwcm/);
  });

  it('an XML error answers App_GenericResp that a strict parser reads', async () => {
    await estate();
    const res = await postXml(
      '<GuiServer_ModifyCredsReq preview="1" skipPasswordCheck="0"><credsInfo><oldCredentials password="x&amp;y" userName="corp\\nobody"/><newCredentials password="Next-Passw0rd"/></credsInfo></GuiServer_ModifyCredsReq>',
    );
    const [root] = parseStrict(res.body);
    expect(root).toEqual({
      name: 'App_GenericResp',
      attributes: { errorCode: '1501', errorMessage: expect.any(String) },
    });
  });

  it('wrong old passwords lock AccountManagement for the caller (previews count), then it unlocks after the back-off', async () => {
    const c = await estate();
    const wrong = jsonReq({
      preview: 1,
      oldUser: 'corp\\svc',
      oldPassword: 'Wrong-Passw0rd',
      newPassword: 'Next-Passw0rd',
    });
    for (let i = 1; i < ACCOUNT_POLICY.maxFailures; i++) expect(codeOf(await post(wrong))).toBe(1203);
    const locked = await post(wrong);
    expect(codeOf(locked)).toBe(1502);
    expect(locked.json().errorMessage).toMatch(/in 300 seconds/);
    // Locked: even the right password, even a preview, is refused; other callers are not locked.
    const right = jsonReq({
      preview: 0,
      oldUser: 'corp\\svc',
      oldPassword: 'Right-Passw0rd',
      newPassword: 'Next-Passw0rd',
    });
    expect(codeOf(await post(right))).toBe(1502);
    expect((await accountOf(t, c.subclient, 'subclientUnc'))?.password).toBe('Right-Passw0rd');
    const other = await makeTenant(t, admin, 'acme');
    expect(
      codeOf(await post(jsonReq({ ...right.GuiServer_ModifyCredsReq, preview: 1 } as never), other.token)),
    ).not.toBe(1502);
    // A login of the locked caller still works: only this operation is locked.
    await t.login();
    t.clock.advance(301_000);
    expect(codeOf(await post(right))).toBe(0);
    expect((await accountOf(t, c.subclient, 'subclientUnc'))?.password).toBe('Next-Passw0rd');
    const ops = (await auditOps()).map((a) => `${a.operation}:${a.outcome}`);
    expect(ops.filter((o) => o === 'credential.account-management:failure')).toHaveLength(ACCOUNT_POLICY.maxFailures);
    expect(ops).toContain('account-management.lock:success');
    expect(ops.at(-1)).toBe('credential.account-management:success');
  });
});

describe('rights', () => {
  async function tenantUser(domain: string, name: string, groups: string[] = []) {
    const made = await t.call('POST', '/User', admin, {
      users: [
        {
          userEntity: { userName: `${domain}\\${name}` },
          email: `${name}@${domain}.example`,
          password: b64('User-Passw0rd!'),
          associatedUserGroups: groups.map((g) => ({ userGroupName: g })),
        },
      ],
    });
    expect(made.json().response[0].errorCode, made.body).toBe(0);
    return t.login(`${domain}\\${name}`, 'User-Passw0rd!');
  }

  async function role(name: string, permissions: string[]) {
    const res = await t.call('POST', '/Role', admin, {
      roles: [
        {
          role: { roleName: name },
          categoryPermission: {
            categoriesPermissionOperationType: 'ADD',
            categoriesPermissionList: permissions.map((permissionName) => ({ permissionName })),
          },
        },
      ],
    });
    expect(res.json().response?.[0]?.errorCode ?? res.json().errorCode, res.body).toBe(0);
  }

  async function grant(userName: string, entity: Record<string, unknown>, roleName: string) {
    const res = await t.call('POST', '/Security', admin, {
      entityAssociated: { entity: [entity] },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [{ userOrGroup: [{ userName }], properties: { role: { roleName } } }],
      },
    });
    expect(res.json().response[0].errorCode, res.body).toBe(0);
  }

  it("a tenant admin changes its own company's accounts; the same name in another company is untouched", async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const globex = await makeTenant(t, admin, 'globex');
    const a = await addChain(t, acme.companyId, chainAt(500), { client: 'acme-fs' });
    const g = await addChain(t, globex.companyId, chainAt(510), { client: 'globex-fs' });
    await setAccount(t, a.subclient, 'subclientUnc', acme.companyId, 'corp\\svc', 'Shared-Passw0rd');
    await setAccount(t, g.subclient, 'subclientUnc', globex.companyId, 'corp\\svc', 'Shared-Passw0rd');
    const globexRecord = await addRecord(t, globex.companyId, 'svc', 'corp\\svc', 'Shared-Passw0rd');
    const commcellRecord = await addRecord(t, 0, 'svc', 'corp\\svc', 'Shared-Passw0rd');
    for (const skip of [0, 1] as const) {
      const res = await post(
        jsonReq({
          preview: 0,
          skip,
          oldUser: 'corp\\svc',
          oldPassword: 'Shared-Passw0rd',
          newPassword: `Acme-Passw0rd${skip}`,
        }),
        acme.token,
      );
      expect(codeOf(res), res.body).toBe(0);
      expect((await accountOf(t, a.subclient, 'subclientUnc'))?.password).toBe(`Acme-Passw0rd${skip}`);
    }
    expect((await accountOf(t, g.subclient, 'subclientUnc'))?.password).toBe('Shared-Passw0rd');
    expect((await recordOf(t, globexRecord))?.password).toBe('Shared-Passw0rd');
    expect((await recordOf(t, commcellRecord))?.password).toBe('Shared-Passw0rd');
    // globex's preview lists its own account only, no acme entity.
    const pv = await post(
      jsonReq({ preview: 1, oldUser: 'corp\\svc', oldPassword: 'Shared-Passw0rd', newPassword: 'Next-Passw0rd' }),
      globex.token,
    );
    expect(pv.body).not.toContain('acme');
    expect(pv.json().credentialChanges.map((x: { changes: string }) => x.changes)).toEqual([
      'UNC path user password',
      'User password for [password]',
    ]);
  });

  it('without Credential Management anywhere: 587204594, whether or not the name exists', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const c = await addChain(t, acme.companyId, chainAt(600), { client: 'acme-fs' });
    await setAccount(t, c.subclient, 'subclientUnc', acme.companyId, 'corp\\svc', 'Right-Passw0rd');
    const plain = await tenantUser('acme', 'plain', ['Tenant Users']);
    for (const oldUser of ['corp\\svc', 'corp\\nobody']) {
      const res = await post(
        jsonReq({ preview: 1, oldUser, oldPassword: 'Right-Passw0rd', newPassword: 'Next-Passw0rd' }),
        plain,
      );
      expect(codeOf(res), oldUser).toBe(587204594);
    }
    const denied = await t.store.db
      .selectFrom('audit_log')
      .select('operation')
      .where('operation', '=', 'access.denied')
      .execute();
    expect(denied.length).toBeGreaterThan(0);
  });

  it('one matching account the caller may not manage refuses the whole request before any secret is opened', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const mine = await addChain(t, acme.companyId, chainAt(700), { client: 'acme-mine' });
    const theirs = await addChain(t, acme.companyId, chainAt(710), { client: 'acme-theirs' });
    await setAccount(t, mine.client, 'clientImpersonation', acme.companyId, 'corp\\svc', 'Right-Passw0rd');
    await setAccount(t, theirs.client, 'clientImpersonation', acme.companyId, 'corp\\svc', 'Right-Passw0rd');
    await role('Client Creds', ['View', 'Credential Management']);
    const op = await tenantUser('acme', 'op');
    await grant('acme\\op', { clientId: mine.client, _type_: 3 }, 'Client Creds');
    // A secret that cannot be opened: reaching it would be a 500, so 587204594 proves no decryption came first.
    await t.store.db
      .updateTable('entity_accounts')
      .set({ secret: 'AAAA' })
      .where('entity_id', '=', theirs.client)
      .execute();
    const before = await snapshot(t).catch(() => null);
    expect(before).toBeNull();
    const res = await post(
      jsonReq({ preview: 0, oldUser: 'corp\\svc', oldPassword: 'Right-Passw0rd', newPassword: 'Next-Passw0rd' }),
      op,
    );
    expect(codeOf(res)).toBe(587204594);
    expect(res.json().errorMessage).toContain(`client ${theirs.client}`);
    expect((await accountOf(t, mine.client, 'clientImpersonation'))?.password).toBe('Right-Passw0rd');
    // Alone, its own client's account is its to change; skipPasswordCheck needs more than it holds.
    await t.store.db.deleteFrom('entity_accounts').where('entity_id', '=', theirs.client).execute();
    const skip = await post(jsonReq({ preview: 1, skip: 1, oldUser: 'corp\\svc', newPassword: 'Next-Passw0rd' }), op);
    expect(codeOf(skip)).toBe(587204594);
    expect(skip.json().errorMessage).toContain(
      'skipPasswordCheck needs Credential Management and Administrative Management',
    );
    expect(
      codeOf(
        await post(
          jsonReq({ preview: 0, oldUser: 'corp\\svc', oldPassword: 'Right-Passw0rd', newPassword: 'Next-Passw0rd' }),
          op,
        ),
      ),
    ).toBe(0);
    expect((await accountOf(t, mine.client, 'clientImpersonation'))?.password).toBe('Next-Passw0rd');
  });

  it('skipPasswordCheck=1 needs Administrative Management on the company besides Credential Management', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const c = await addChain(t, acme.companyId, chainAt(800), { client: 'acme-fs' });
    await setAccount(t, c.subclient, 'subclientUnc', acme.companyId, 'corp\\svc', 'Unknown-Passw0rd');
    const rec = await addRecord(t, acme.companyId, 'svc', 'corp\\svc', 'Unknown-Passw0rd');
    await role('Creds Only', ['View', 'Credential Management']);
    const keeper = await tenantUser('acme', 'keeper');
    await grant('acme\\keeper', { providerId: acme.companyId }, 'Creds Only');
    const skip = jsonReq({ preview: 0, skip: 1, oldUser: 'corp\\svc', newPassword: 'Reset-Passw0rd' });
    expect(codeOf(await post(skip, keeper))).toBe(587204594);
    expect((await recordOf(t, rec))?.password).toBe('Unknown-Passw0rd');
    // Checked, it may: it knows the old password.
    const checked = await post(
      jsonReq({ preview: 1, oldUser: 'corp\\svc', oldPassword: 'Unknown-Passw0rd', newPassword: 'Reset-Passw0rd' }),
      keeper,
    );
    expect(checked.json().credentialChanges, checked.body).toHaveLength(2);
    // The tenant admin holds both on the company.
    expect(codeOf(await post(skip, acme.token))).toBe(0);
    expect((await recordOf(t, rec))?.password).toBe('Reset-Passw0rd');
    expect((await accountOf(t, c.subclient, 'subclientUnc'))?.password).toBe('Reset-Passw0rd');
    const [last] = (await auditOps()).slice(-1);
    expect(JSON.parse(last?.details ?? '{}').skipPasswordCheck).toBe(true);
  });
});

describe('atomicity and what the store holds', () => {
  it('a write failing midway leaves every account unchanged and writes no audit record', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await addChain(t, 0, chainAt(900 + i * 10), { client: `c${i}` });
      await setAccount(t, c.subclient, 'subclientUnc', 0, 'corp\\svc', 'Right-Passw0rd');
      ids.push(c.subclient);
    }
    const rec = await addRecord(t, 0, 'svc', 'corp\\svc', 'Right-Passw0rd');
    const before = await snapshot(t);
    const audits = await t.store.db.selectFrom('audit_log').select('seq').execute();
    // First the fourth account's update fails (three rows written before it, in the same statement);
    // then the record's, in the statement after every entity-bound account was written.
    const faults: Array<[table: string, column: string, id: number]> = [
      ['entity_accounts', 'entity_id', ids[3] as number],
      ['credentials', 'id', rec],
    ];
    for (const [table, column, id] of faults) {
      if (DIALECT === 'sqlite') {
        await t.store.db.executeQuery(
          rawSql(
            `create trigger fail_midway before update on ${table} when old.${column} = ${id} begin select raise(abort, 'injected fault'); end`,
          ),
        );
      } else {
        await t.store.db.executeQuery(
          rawSql(
            `create or replace function fail_midway() returns trigger language plpgsql as $$ begin raise exception 'injected fault'; end $$`,
          ),
        );
        await t.store.db.executeQuery(
          rawSql(
            `create trigger fail_midway before update on ${table} for each row when (old.${column} = ${id}) execute function fail_midway()`,
          ),
        );
      }
      const res = await post(
        jsonReq({ preview: 0, oldUser: 'corp\\svc', oldPassword: 'Right-Passw0rd', newPassword: 'Next-Passw0rd' }),
      );
      expect(res.statusCode, table).toBe(500);
      expect(res.body).not.toContain('injected');
      expect(await snapshot(t)).toEqual(before);
      expect((await recordOf(t, rec))?.password).toBe('Right-Passw0rd');
      expect(await t.store.db.selectFrom('audit_log').select('seq').execute()).toHaveLength(audits.length);
      await t.store.db.executeQuery(
        rawSql(DIALECT === 'sqlite' ? 'drop trigger fail_midway' : `drop trigger fail_midway on ${table}`),
      );
    }
    // Without the fault the same request applies.
    const ok = await post(
      jsonReq({ preview: 0, oldUser: 'corp\\svc', oldPassword: 'Right-Passw0rd', newPassword: 'Next-Passw0rd' }),
    );
    expect(codeOf(ok)).toBe(0);
    expect((await recordOf(t, rec))?.password).toBe('Next-Passw0rd');
  });

  it('after apply no table holds the new password, in clear or base64', async () => {
    const c = await addChain(t, 0, chainAt(1000), { client: 'fs' });
    await setAccount(t, c.subclient, 'subclientUnc', 0, 'corp\\svc', 'Right-Passw0rd');
    await addRecord(t, 0, 'svc', 'corp\\svc', 'Right-Passw0rd');
    const secret = 'Fresh-S3cret-Value!';
    expect(
      codeOf(
        await post(
          jsonReq({
            preview: 0,
            oldUser: 'corp\\svc',
            oldPassword: 'Right-Passw0rd',
            newPassword: secret,
            reason: 'r',
          }),
        ),
      ),
    ).toBe(0);
    const dump = JSON.stringify([
      await t.store.db.selectFrom('entity_accounts').selectAll().execute(),
      await t.store.db.selectFrom('credentials').selectAll().execute(),
      await t.store.db.selectFrom('audit_log').selectAll().execute(),
      await t.store.db.selectFrom('login_throttle').selectAll().execute(),
    ]);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(b64(secret).slice(0, 20));
    expect(t.logs.join('')).not.toContain(secret);
    expect(t.logs.join('')).not.toContain(b64(secret).slice(0, 20));
  });
});

const rawSql = (text: string) => sql.raw(text).compile(t.store.db);
