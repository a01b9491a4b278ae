import { describe, expect, it } from 'vitest';
import { BASE, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

const OK = { error: { errorCode: 0, errorMessage: '' } };

/** cvpysdk's Credentials.add body, byte for byte in shape. */
const sdkAdd = (type: number, name: string, user: string, password: string, description: string | null = null) => ({
  credentialRecordInfo: [
    {
      recordType: type,
      description,
      credentialRecord: { credentialName: name },
      record: { userName: user, password: b64(password) },
    },
  ],
});

/** cvpysdk's Credential._update_credential_props body. */
const sdkUpdate = (id: number, name: string, user: string, type = 'WINDOWSACCOUNT', extra: object = {}) => ({
  credentialRecordInfo: [
    {
      recordType: type,
      credentialRecord: { credentialId: id, credentialName: name },
      record: { userName: user },
      ...extra,
    },
  ],
});

const sdkShareWithUser = (userName: string) => ({
  securityAssociations: {
    associationsOperationType: 1,
    associations: [
      {
        userOrGroup: [{ _type_: 13, userName }],
        properties: {
          isCreatorAssociation: false,
          permissions: [{ permissionId: 218, _type_: 122, permissionName: 'User Credential' }],
        },
      },
    ],
    ownerAssociations: {},
  },
});

const list = async (token: string) =>
  (await t.call('GET', '/CommCell/Credentials?propertyLevel=30', token)).json().credentialRecordInfo as Array<{
    credentialRecord: { credentialId: number; credentialName: string };
    record: Record<string, unknown>;
  }>;
const code = async (method: string, path: string, token: string, body?: unknown) => {
  const res = await t.call(method, path, token, body);
  const j = res.json();
  return j.error?.errorCode ?? j.errorCode;
};

async function tenantUser(domain: string, name: string) {
  const made = await t.call('POST', '/User', admin, {
    users: [
      {
        userEntity: { userName: `${domain}\\${name}` },
        email: `${name}@${domain}.example`,
        password: b64('User-Passw0rd!'),
      },
    ],
  });
  expect(made.json().response[0].errorCode, made.body).toBe(0);
  return {
    id: made.json().response[0].entity.userId as number,
    token: await t.login(`${domain}\\${name}`, 'User-Passw0rd!'),
  };
}

describe('Credential Manager, as cvpysdk drives it', () => {
  it('creates, lists, reads (V5), updates, shares, renames and deletes; never answers a password', async () => {
    const created = await t.call(
      'POST',
      '//Commcell/Credentials',
      admin,
      sdkAdd(1, 'prd_test001', 'prodcert\\admin', 'Password001', 'prod'),
    );
    expect(created.json()).toMatchObject(OK);
    expect(
      (await t.call('POST', '/Commcell/Credentials', admin, sdkAdd(2, 'lin01', 'root', 'Linux-Passw0rd'))).json(),
    ).toEqual({
      ...OK,
      credentialRecordInfo: [{ credentialRecord: { credentialId: 2, credentialName: 'lin01' } }],
    });
    const all = await t.call('GET', '//CommCell/Credentials?propertyLevel=30', admin);
    expect(all.json().credentialRecordInfo[0]).toEqual({
      credentialRecord: { credentialId: 1, credentialName: 'prd_test001' },
      record: { userName: 'prodcert\\admin' },
      recordType: 1,
      description: 'prod',
      company: { id: 0, name: 'CommCell' },
      securityAssociations: { associations: [] },
    });
    expect(all.json().credentialRecordInfo[1].recordType).toBe(2);
    const v5 = (await t.call('GET', '/V5/credential/1', admin)).json();
    expect(v5).toEqual({
      id: 1,
      name: 'prd_test001',
      accountType: 'WINDOWSACCOUNT',
      userAccount: 'prodcert\\admin',
      description: 'prod',
      company: { id: 0, name: 'CommCell' },
      security: { associations: [] },
    });
    // update_user_credential (cvpysdk sends no password here), then a password when sent.
    expect(
      (await t.call('PUT', '/Commcell/Credentials', admin, sdkUpdate(1, 'prd_test001', 'prodcert\\svc'))).json(),
    ).toEqual(OK);
    const withPassword = sdkUpdate(1, 'prd_test001', 'prodcert\\svc', 'WINDOWSACCOUNT', {});
    (withPassword.credentialRecordInfo[0] as { record: object }).record = {
      userName: 'prodcert\\svc',
      password: b64('Password002'),
    };
    expect((await t.call('PUT', '/Commcell/Credentials', admin, withPassword)).json()).toEqual(OK);
    // update_securtiy, then the credential_name setter.
    expect(
      (
        await t.call(
          'PUT',
          '/Commcell/Credentials',
          admin,
          sdkUpdate(1, 'prd_test001', 'prodcert\\svc', 'WINDOWSACCOUNT', sdkShareWithUser('admin')),
        )
      ).json(),
    ).toEqual(OK);
    expect(
      (await t.call('PUT', '/Commcell/Credentials', admin, sdkUpdate(1, 'prd_renamed', 'prodcert\\svc'))).json(),
    ).toEqual(OK);
    const after = (await t.call('GET', '/V5/credential/1', admin)).json();
    expect(after).toMatchObject({
      name: 'prd_renamed',
      userAccount: 'prodcert\\svc',
      security: { associations: [{ user: { id: 1, name: 'admin' } }] },
    });
    // A database account (add_postgres_database_creds) answers its id.
    const pg = await t.call('POST', '/V4/Credential', admin, {
      accountType: 'DATABASE_ACCOUNT',
      databaseCredentialType: 'POSTGRESQL',
      name: 'pgcred',
      username: 'postgres',
      password: b64('Pg-Passw0rd'),
      description: 'pg',
    });
    expect(pg.json()).toEqual({ id: 3, name: 'pgcred' });
    expect((await t.call('GET', '/V5/credential/3', admin)).json()).toMatchObject({
      accountType: 'DATABASE_ACCOUNT',
      databaseCredentialType: 'POSTGRESQL',
    });
    // delete by name, as cvpysdk does.
    expect(
      (
        await t.call('POST', '/Commcell/Credentials/action/delete', admin, {
          credentialRecordInfo: [{ credentialRecord: { credentialName: 'LIN01' } }],
        })
      ).json(),
    ).toEqual(OK);
    expect((await list(admin)).map((r) => r.credentialRecord.credentialName)).toEqual(['prd_renamed', 'pgcred']);
    // Nothing anywhere says a password, in clear or base64: replies, audit, database rows.
    const everything = JSON.stringify([
      await t.call('GET', '/CommCell/Credentials', admin).then((r) => r.body),
      await t.call('GET', '/V5/credential/1', admin).then((r) => r.body),
      await t.store.db.selectFrom('audit_log').selectAll().execute(),
      await t.store.db.selectFrom('credentials').selectAll().execute(),
    ]);
    for (const pw of ['Password001', 'Password002', 'Linux-Passw0rd', 'Pg-Passw0rd']) {
      expect(everything).not.toContain(pw);
      expect(everything).not.toContain(b64(pw));
    }
    const ops = await t.store.db
      .selectFrom('audit_log')
      .select('operation')
      .where('operation', 'like', 'credential.%')
      .execute();
    expect(ops.map((o) => o.operation)).toEqual([
      'credential.create',
      'credential.create',
      'credential.update',
      'credential.update',
      'credential.update',
      'credential.update',
      'credential.create',
      'credential.delete',
    ]);
  });

  it('takes the other record types cvpysdk names (SSH, Azure, AWS S3, by number or name) and answers XML that parses', async () => {
    for (const [type, name] of [
      [3, 'ssh'],
      ['AZUREACCOUNT', 'azacct'],
      [5, 'vmw'],
      ['MICROSOFT_AZURE', 'az'],
      ['AMAZON_S3', 's3'],
    ] as const) {
      const body = sdkAdd(1, name, 'AKIA', 'Secret-Key-1');
      (body.credentialRecordInfo[0] as { recordType: unknown }).recordType = type;
      expect((await t.call('POST', '/Commcell/Credentials', admin, body)).json(), name).toMatchObject(OK);
    }
    const xml = await t.inject({
      method: 'GET',
      url: `${BASE}/CommCell/Credentials`,
      headers: { authtoken: admin, accept: 'application/xml' },
    });
    expect(xml.body).toContain(
      '<credentialRecordInfo recordType="3" description=""><credentialRecord credentialId="1" credentialName="ssh"/>',
    );
    const v5 = await t.inject({
      method: 'GET',
      url: `${BASE}/V5/credential/5`,
      headers: { authtoken: admin, accept: 'application/xml' },
    });
    expect(v5.body).toContain('accountType="AMAZON_S3"');
  });
});

describe('Credential Manager errors', () => {
  it('answers each documented error in the shape cvpysdk reads, and changes nothing', async () => {
    await t.call('POST', '/Commcell/Credentials', admin, sdkAdd(1, 'one', 'dom\\u', 'Password001'));
    expect(await code('POST', '/Commcell/Credentials', admin, sdkAdd(1, 'ONE', 'dom\\u', 'Password001'))).toBe(1201);
    expect(await code('POST', '/Commcell/Credentials', admin, sdkAdd(99, 'two', 'dom\\u', 'Password001'))).toBe(1204);
    expect(await code('POST', '/Commcell/Credentials', admin, sdkAdd(1, 'two', 'dom\\u', ''))).toBe(1204);
    expect(await code('POST', '/Commcell/Credentials', admin, sdkAdd(1, 'two', 'dom\\u\u200b', 'Password001'))).toBe(
      1204,
    );
    const bad64 = sdkAdd(1, 'two', 'dom\\u', 'x');
    (bad64.credentialRecordInfo[0] as { record: { password: string } }).record.password = '%%%';
    expect(await code('POST', '/Commcell/Credentials', admin, bad64)).toBe(1004);
    expect(await code('POST', '/Commcell/Credentials', admin, { credentialRecordInfo: [] })).toBe(1000);
    // A batch with one bad record writes none.
    const batch = sdkAdd(1, 'three', 'dom\\u', 'Password001');
    batch.credentialRecordInfo.push(sdkAdd(1, 'one', 'dom\\u', 'Password001').credentialRecordInfo[0] as never);
    expect(await code('POST', '/Commcell/Credentials', admin, batch)).toBe(1201);
    expect((await list(admin)).map((r) => r.credentialRecord.credentialName)).toEqual(['one']);
    expect(await code('PUT', '/Commcell/Credentials', admin, sdkUpdate(1, 'one', 'dom\\u', 'LINUXACCOUNT'))).toBe(1204);
    expect(await code('PUT', '/Commcell/Credentials', admin, sdkUpdate(77, 'one', 'dom\\u'))).toBe(1200);
    const otherPermission = sdkShareWithUser('admin');
    (
      otherPermission.securityAssociations.associations[0]?.properties.permissions[0] as { permissionName: string }
    ).permissionName = 'Administrative Management';
    (
      otherPermission.securityAssociations.associations[0]?.properties.permissions[0] as { permissionId: number }
    ).permissionId = 3;
    expect(
      await code(
        'PUT',
        '/Commcell/Credentials',
        admin,
        sdkUpdate(1, 'one', 'dom\\u', 'WINDOWSACCOUNT', otherPermission),
      ),
    ).toBe(1204);
    expect(
      await code('POST', '/Commcell/Credentials/action/delete', admin, {
        credentialRecordInfo: [{ credentialRecord: { credentialName: 'nope' } }],
      }),
    ).toBe(1200);
    expect(await code('GET', '/V5/credential/999', admin)).toBe(1200);
    expect(await code('GET', '/V5/credential/abc', admin)).toBe(1200);
    expect(
      await code('POST', '/V4/Credential', admin, {
        accountType: 'DATABASE_ACCOUNT',
        databaseCredentialType: 'NOSQL',
        name: 'x',
        username: 'u',
        password: b64('Pw-123456'),
      }),
    ).toBe(1204);
    expect((await t.call('GET', '/CommCell/Credentials', 'QSDK nope')).statusCode).toBe(401);
  });
});

describe('Credential Manager: who may', () => {
  it('a tenant sees and changes only its own records; a record is shared within its company only', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const globex = await makeTenant(t, admin, 'globex');
    // Same name in two companies: two records.
    expect(
      await code('POST', '/Commcell/Credentials', acme.token, sdkAdd(1, 'svc', 'acme\\svc', 'Acme-Passw0rd')),
    ).toBe(0);
    expect(
      await code('POST', '/Commcell/Credentials', globex.token, sdkAdd(1, 'svc', 'globex\\svc', 'Globex-Passw0rd')),
    ).toBe(0);
    const acmeList = await list(acme.token);
    expect(acmeList.map((r) => r.record.userName)).toEqual(['acme\\svc']);
    const acmeId = acmeList[0]?.credentialRecord.credentialId as number;
    expect((await list(admin)).length).toBe(2);
    // globex cannot read, change, share or delete acme's record: not found, by id or by name.
    expect(await code('GET', `/V5/credential/${acmeId}`, globex.token)).toBe(1200);
    expect(await code('GET', `/CommCell/Credentials/${acmeId}`, globex.token)).toBe(1200);
    expect(await code('PUT', '/Commcell/Credentials', globex.token, sdkUpdate(acmeId, 'svc', 'globex\\x'))).toBe(1200);
    expect(
      await code('POST', '/Commcell/Credentials/action/delete', globex.token, {
        credentialRecordInfo: [{ credentialRecord: { credentialId: acmeId } }],
      }),
    ).toBe(1200);
    // Creating in another company, or sharing with another company's user, is refused.
    const into = sdkAdd(1, 'planted', 'x\\y', 'Planted-Passw0rd');
    (into.credentialRecordInfo[0] as { createAs?: object }).createAs = { company: { providerId: acme.companyId } };
    expect(await code('POST', '/Commcell/Credentials', globex.token, into)).toBe(1200);
    expect(
      await code(
        'PUT',
        '/Commcell/Credentials',
        acme.token,
        sdkUpdate(acmeId, 'svc', 'acme\\svc', 'WINDOWSACCOUNT', sdkShareWithUser('globex\\tadmin')),
      ),
    ).toBe(1200);
    expect(
      await code(
        'PUT',
        '/Commcell/Credentials',
        admin,
        sdkUpdate(acmeId, 'svc', 'acme\\svc', 'WINDOWSACCOUNT', sdkShareWithUser('admin')),
      ),
    ).toBe(1204);
    // The CommCell admin creates in a company by createAs.
    expect(
      await code('POST', '/Commcell/Credentials', admin, {
        credentialRecordInfo: [
          { ...into.credentialRecordInfo[0], credentialRecord: { credentialName: 'made-for-acme' } },
        ],
      }),
    ).toBe(0);
    expect((await list(acme.token)).map((r) => r.credentialRecord.credentialName)).toEqual(['svc', 'made-for-acme']);
  });

  it('a user without Credential Management creates nothing and sees only what is shared with it, which it cannot change', async () => {
    const acme = await makeTenant(t, admin, 'acme');
    const bob = await tenantUser('acme', 'bob');
    expect(await code('POST', '/Commcell/Credentials', bob.token, sdkAdd(1, 'mine', 'acme\\b', 'Bob-Passw0rd'))).toBe(
      587204594,
    );
    expect(
      await code('POST', '/V4/Credential', bob.token, {
        accountType: 'DATABASE_ACCOUNT',
        databaseCredentialType: 'MYSQL',
        name: 'm',
        username: 'u',
        password: b64('Pw-123456'),
      }),
    ).toBe(587204594);
    await t.call('POST', '/Commcell/Credentials', acme.token, sdkAdd(1, 'shared', 'acme\\svc', 'Acme-Passw0rd'));
    await t.call('POST', '/Commcell/Credentials', acme.token, sdkAdd(1, 'private', 'acme\\svc2', 'Acme-Passw0rd'));
    expect(await list(bob.token)).toEqual([]);
    expect(
      await code(
        'PUT',
        '/Commcell/Credentials',
        acme.token,
        sdkUpdate(1, 'shared', 'acme\\svc', 'WINDOWSACCOUNT', sdkShareWithUser('bob')),
      ),
    ).toBe(0);
    expect((await list(bob.token)).map((r) => r.credentialRecord.credentialName)).toEqual(['shared']);
    expect((await t.call('GET', '/V5/credential/1', bob.token)).json().userAccount).toBe('acme\\svc');
    expect(await code('GET', '/V5/credential/2', bob.token)).toBe(1200);
    const steal = sdkUpdate(1, 'shared', 'acme\\bob');
    (steal.credentialRecordInfo[0] as { record: object }).record = {
      userName: 'acme\\bob',
      password: b64('Bob-Passw0rd'),
    };
    expect(await code('PUT', '/Commcell/Credentials', bob.token, steal)).toBe(587204594);
    expect(
      await code('POST', '/Commcell/Credentials/action/delete', bob.token, {
        credentialRecordInfo: [{ credentialRecord: { credentialId: 1 } }],
      }),
    ).toBe(587204594);
    expect((await t.call('GET', '/V5/credential/1', acme.token)).json().userAccount).toBe('acme\\svc');
  });
});
