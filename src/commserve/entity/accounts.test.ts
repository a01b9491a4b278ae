import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { beforeEach, describe, expect, it } from 'vitest';
import { addEntities } from '../../../test/estate.js';
import { b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { accountChange } from '../../domain/entity-accounts.js';
import { entityAccounts, openAccount } from '../../store/credentials.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  t = app;
  admin = token;
});

const CLIENT = 7001;
const INSTANCE = 7003;
const SUBCLIENT = 7005;
let acme: Awaited<ReturnType<typeof makeTenant>>;

beforeEach(async () => {
  acme = await makeTenant(t, admin, 'acme');
  await addEntities(t.store, [
    { id: CLIENT, type: 3, companyId: acme.companyId, name: 'fs01' },
    { id: 7002, type: 4, companyId: acme.companyId, parentId: CLIENT, name: 'File System' },
    { id: INSTANCE, type: 5, companyId: acme.companyId, parentId: 7002, name: 'DefaultInstanceName' },
    { id: 7004, type: 6, companyId: acme.companyId, parentId: INSTANCE, name: 'defaultBackupSet' },
    { id: SUBCLIENT, type: 7, companyId: acme.companyId, parentId: 7004, name: 'shares' },
  ]);
});

/** The stored account of `kind` on an entity, opened through the vault (the test's view of the store). */
async function stored(entityId: number, kind: string) {
  const row = (await entityAccounts(t.store.db, entityId)).find((a) => a.kind === kind);
  if (!row) return null;
  return { userName: row.user_name, password: await openAccount(t.store.db, t.ctx.vault, row), secret: row.secret };
}

const subclientOf = async (token: string) => (await t.call('GET', `/Subclient/${SUBCLIENT}`, token)).json();

describe('entity-bound accounts', () => {
  it("a subclient's UNC-path user as cvpysdk's impersonate_user setter sends it: read back without the password", async () => {
    // FileSystemSubclient.impersonate_user: GET the properties, set userName and base64 password, POST them all back.
    const props = (await subclientOf(acme.token)).subClientProperties[0];
    expect(props.impersonateUser).toEqual({});
    props.impersonateUser.userName = 'ACME\\svc-backup';
    props.impersonateUser.password = b64('Unc-Passw0rd!');
    const r = await t.call('POST', `/Subclient/${SUBCLIENT}`, acme.token, { subClientProperties: props });
    expect(r.json()).toEqual({ response: [{ errorCode: 0, errorString: '' }] });
    const s = await stored(SUBCLIENT, 'subclientUnc');
    expect(s).toMatchObject({ userName: 'ACME\\svc-backup', password: 'Unc-Passw0rd!' });
    expect(s?.secret).not.toContain(b64('Unc-Passw0rd!'));
    const read = await t.call('GET', `/Subclient/${SUBCLIENT}`, acme.token);
    expect(read.json().subClientProperties[0].impersonateUser).toEqual({ userName: 'ACME\\svc-backup' });
    expect(read.body).not.toContain('Unc-Passw0rd');
    expect(read.body).not.toContain(b64('Unc-Passw0rd!'));
    // Sending the read properties back unchanged (another property update) changes nothing, and audits nothing.
    const before = await t.store.db.selectFrom('audit_log').select('seq').execute();
    const again = await t.call('POST', `/Subclient/${SUBCLIENT}`, acme.token, {
      subClientProperties: read.json().subClientProperties[0],
    });
    expect(again.json().response[0].errorCode).toBe(0);
    expect((await stored(SUBCLIENT, 'subclientUnc'))?.secret).toBe(s?.secret);
    expect((await t.store.db.selectFrom('audit_log').select('seq').execute()).length).toBe(before.length);
    // The audit record of the change names the account, never the password.
    const audit = await t.store.db
      .selectFrom('audit_log')
      .select(['operation', 'actor_name', 'target_id', 'details'])
      .where('operation', 'like', 'entity.account.%')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ operation: 'entity.account.set', actor_name: 'acme\\tadmin', target_id: '7005' });
    expect(JSON.parse(audit[0]?.details ?? '{}')).toEqual({
      kind: 'subclientUnc',
      userName: { from: null, to: 'ACME\\svc-backup' },
      passwordChanged: true,
    });
    const all = JSON.stringify(await t.store.db.selectFrom('audit_log').selectAll().execute());
    expect(all).not.toContain('Unc-Passw0rd');
    expect(all).not.toContain(b64('Unc-Passw0rd!'));
  });

  it("a client's impersonation user through cvpysdk's Client.update_properties: the read properties posted back, CVS3BucketName popped", async () => {
    // client.py update_properties: request_json['clientProperties'].update(props), then
    // request_json['clientProperties']['clientProps'].pop("CVS3BucketName"): a KeyError without it.
    const read = await t.call('GET', `/Client/${CLIENT}`, acme.token);
    const props = structuredClone(read.json().clientProperties[0]);
    expect(props.clientProps).toHaveProperty('CVS3BucketName');
    delete props.clientProps.CVS3BucketName;
    props.clientProps.impersonateUser = { userName: 'acme\\sdk', password: b64('Sdk-Passw0rd!') };
    const posted = await t.call('POST', `/Client/${CLIENT}`, acme.token, {
      clientProperties: props,
      association: { entity: [{ clientName: 'fs01' }] },
    });
    expect(posted.json().response[0].errorCode).toBe(0);
    const after = await t.call('GET', `/Client/${CLIENT}`, acme.token);
    expect(after.json().clientProperties[0].clientProps.impersonateUser).toEqual({ userName: 'acme\\sdk' });
  });

  it("an instance's and a client's impersonation user; rename keeps the password; '' clears", async () => {
    const inst = await t.call('POST', `/Instance/${INSTANCE}`, acme.token, {
      instanceProperties: { impersonateUser: { userName: 'acme\\inst', password: b64('Inst-Passw0rd!') } },
    });
    expect(inst.json().response[0].errorCode).toBe(0);
    const cli = await t.call('POST', `/Client/${CLIENT}`, acme.token, {
      clientProperties: { clientProps: { impersonateUser: { userName: 'acme\\cli', password: b64('Cli-Passw0rd!') } } },
      association: { entity: [{ clientName: 'fs01' }] },
    });
    expect(cli.json().response[0].errorCode).toBe(0);
    const gi = await t.call('GET', `/Instance/${INSTANCE}?association/entity/clientId=${CLIENT}`, acme.token);
    expect(gi.json().instanceProperties[0]).toMatchObject({
      instance: { instanceId: INSTANCE, instanceName: 'DefaultInstanceName', clientId: CLIENT, clientName: 'fs01' },
      impersonateUser: { userName: 'acme\\inst' },
    });
    const gc = await t.call('GET', `/Client/${CLIENT}`, acme.token);
    expect(gc.json().clientProperties[0].clientProps.impersonateUser).toEqual({ userName: 'acme\\cli' });
    for (const body of [gi.body, gc.body]) expect(body).not.toMatch(/Passw0rd|UGFzc3cwcm/);
    // XML: the password plain, as the product's XML sends secrets.
    const xml = await t.inject({
      method: 'POST',
      url: `/commandcenter/api/Instance/${INSTANCE}`,
      headers: { authtoken: acme.token, 'content-type': 'application/xml', accept: 'application/xml' },
      payload:
        '<App_UpdateInstancePropertiesRequest><instanceProperties><impersonateUser userName="acme\\inst2" password="Xml-Passw0rd!"/></instanceProperties></App_UpdateInstancePropertiesRequest>',
    });
    expect(XMLValidator.validate(xml.body)).toBe(true);
    expect(new XMLParser({ ignoreAttributes: false }).parse(xml.body)).toMatchObject({
      App_UpdateInstancePropertiesResponse: { response: { '@_errorCode': '0' } },
    });
    expect(await stored(INSTANCE, 'instanceImpersonation')).toMatchObject({
      userName: 'acme\\inst2',
      password: 'Xml-Passw0rd!',
    });
    // A new user name alone keeps the stored password (its seal is bound to the entity, not the name).
    await t.call('POST', `/Client/${CLIENT}`, acme.token, {
      clientProperties: { clientProps: { impersonateUser: { userName: 'acme\\cli-renamed' } } },
    });
    expect(await stored(CLIENT, 'clientImpersonation')).toMatchObject({
      userName: 'acme\\cli-renamed',
      password: 'Cli-Passw0rd!',
    });
    await t.call('POST', `/Client/${CLIENT}`, acme.token, {
      clientProperties: { clientProps: { impersonateUser: { userName: '' } } },
    });
    expect(await stored(CLIENT, 'clientImpersonation')).toBeNull();
    expect(
      (await t.call('GET', `/Client/${CLIENT}`, acme.token)).json().clientProperties[0].clientProps.impersonateUser,
    ).toEqual({});
  });

  it('refuses bad input (1000, 1004 bad base64, 1204) and changes nothing', async () => {
    const post = (body: unknown) => t.call('POST', `/Subclient/${SUBCLIENT}`, acme.token, body);
    const cases: Array<[unknown, number]> = [
      [{ subClientProperties: { impersonateUser: { userName: 'acme\\x' } } }, 1204], // a new account without a password
      [{ subClientProperties: { impersonateUser: { password: b64('Only-Pw-1') } } }, 1204],
      [{ subClientProperties: { impersonateUser: { userName: 'acme\\x', password: 'not base64!' } } }, 1004],
      [{ subClientProperties: { impersonateUser: { userName: 'acme\\x', password: b64('   ') } } }, 1204],
      [{ subClientProperties: { impersonateUser: { userName: 'acme\\x', password: b64('x'.repeat(4097)) } } }, 1204],
      [{ subClientProperties: { impersonateUser: { userName: 'a'.repeat(300), password: b64('Pw-1') } } }, 1204],
      [{ subClientProperties: { impersonateUser: 'acme\\x' } }, 1000],
      [{ subClientProperties: { impersonateUser: { userName: 'acme\\x\u0000y', password: b64('Pw-1') } } }, 1204],
    ];
    for (const [body, code] of cases) {
      const r = await post(body);
      const got = r.json().errorCode ?? r.json().response?.[0]?.errorCode;
      expect(got, JSON.stringify(body).slice(0, 80)).toBe(code);
    }
    expect(await stored(SUBCLIENT, 'subclientUnc')).toBeNull();
    // Wrong kind of id: a client id on the subclient route is not found.
    const wrong = await t.call('POST', `/Subclient/${CLIENT}`, acme.token, {
      subClientProperties: { impersonateUser: { userName: 'acme\\x', password: b64('Pw-12345') } },
    });
    expect(wrong.json().errorCode).toBe(1200);
  });

  it('needs the edit right on the entity: View alone is refused, another company is not found', async () => {
    await t.call('POST', '/User', acme.token, {
      users: [{ userEntity: { userName: 'acme\\joe' }, email: 'joe@acme.example', password: b64('Joe-Passw0rd!') }],
    });
    const joe = await t.login('acme\\joe', 'Joe-Passw0rd!');
    const grant = await t.call('POST', '/Security', acme.token, {
      entityAssociated: { entity: [{ entityType: 3, entityId: CLIENT }] },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [{ userOrGroup: [{ userName: 'acme\\joe' }], properties: { role: { roleName: 'View' } } }],
      },
    });
    expect(grant.json().response[0].errorCode, grant.body).toBe(0);
    expect((await t.call('GET', `/Subclient/${SUBCLIENT}`, joe)).json().subClientProperties).toHaveLength(1);
    const account = { userName: 'acme\\evil', password: b64('Evil-Passw0rd!') };
    for (const [path, body] of [
      [`/Subclient/${SUBCLIENT}`, { subClientProperties: { impersonateUser: account } }],
      [`/Instance/${INSTANCE}`, { instanceProperties: { impersonateUser: account } }],
      [`/Client/${CLIENT}`, { clientProperties: { clientProps: { impersonateUser: account } } }],
    ] as const) {
      const r = await t.call('POST', path, joe, body);
      expect(r.json().errorCode, path).toBe(587204594);
    }
    const other = await makeTenant(t, admin, 'beta');
    const r = await t.call('POST', `/Subclient/${SUBCLIENT}`, other.token, {
      subClientProperties: { impersonateUser: account },
    });
    expect(r.json().errorCode).toBe(1200);
    expect(await entityAccounts(t.store.db, SUBCLIENT)).toEqual([]);
    expect(await entityAccounts(t.store.db, INSTANCE)).toEqual([]);
    expect(await entityAccounts(t.store.db, CLIENT)).toEqual([]);
  });
});

describe('accounts on import lines (POST Entities/Import, POST Entities)', () => {
  const lines = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).join('\n');
  const importRaw = (token: string, body: string) =>
    t.inject({
      method: 'POST',
      url: '/commandcenter/api/Entities/Import',
      headers: { authtoken: token, 'content-type': 'application/x-ndjson', accept: 'application/json' },
      payload: body,
    });

  it('a client, an instance and a subclient line carry their account; the reply and the audit never the password', async () => {
    const acc = (u: string, pw: string) => ({ userName: u, password: b64(pw) });
    const client = { type: 'client', name: 'win01', os: 'Windows' };
    const agent = { type: 'agent', name: 'File System', parent: { type: 'client', name: 'win01' } };
    const instance = { type: 'instance', name: 'DefaultInstanceName', parent: agent };
    const set = { type: 'backupSet', name: 'defaultBackupSet', parent: instance };
    const res = await importRaw(
      acme.token,
      lines([
        { ...client, account: acc('ACME\\cli', 'Imp-Cli-Pw1') },
        agent,
        { ...instance, account: acc('acme\\inst', 'Imp-Inst-Pw1') },
        set,
        { type: 'subclient', name: 'shares', parent: set, account: acc('acme\\unc', 'Imp-Unc-Pw1') },
      ]),
    );
    const body = res.json();
    expect(body.errors, res.body).toEqual([]);
    const ids = body.results.map((r: { entityId: number }) => r.entityId);
    expect(await stored(ids[0], 'clientImpersonation')).toMatchObject({
      userName: 'ACME\\cli',
      password: 'Imp-Cli-Pw1',
    });
    expect(await stored(ids[2], 'instanceImpersonation')).toMatchObject({ password: 'Imp-Inst-Pw1' });
    expect(await stored(ids[4], 'subclientUnc')).toMatchObject({ userName: 'acme\\unc', password: 'Imp-Unc-Pw1' });
    expect(res.body).not.toMatch(/Imp-|SW1wL/);
    const audit = await t.store.db
      .selectFrom('audit_log')
      .select('details')
      .where('operation', '=', 'entity.import')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details)).toMatchObject({ created: 5, accounts: 3 });
    const all = JSON.stringify(await t.store.db.selectFrom('audit_log').selectAll().execute());
    expect(all).not.toMatch(/Imp-|SW1wL/);
    // GET Subclient/{id} shows the imported user name.
    const sub = await t.call('GET', `/Subclient/${ids[4]}`, acme.token);
    expect(sub.json().subClientProperties[0].impersonateUser).toEqual({ userName: 'acme\\unc' });
    // POST Entities takes the same field.
    const one = await t.call('POST', '/Entities', acme.token, {
      type: 'client',
      name: 'lin02',
      account: acc('acme\\root', 'One-Pw-12'),
    });
    expect(one.json().errorCode, one.body).toBe(0);
    expect(await stored(one.json().entity.entityId, 'clientImpersonation')).toMatchObject({ password: 'One-Pw-12' });
  });

  it('refuses an account on another kind, without a user name, or with a password that is not base64 of text', async () => {
    const res = await importRaw(
      acme.token,
      lines([
        { type: 'plan', name: 'p1', account: { userName: 'a\\b', password: b64('Pw-1') } },
        { type: 'client', name: 'c1', account: { password: b64('Pw-1') } },
        { type: 'client', name: 'c2', account: { userName: 'a\\b', password: 'Plain text!' } },
        { type: 'client', name: 'c3', account: { userName: 'a\\b', password: b64('  ') } },
        { type: 'client', name: 'c4', account: 'a\\b:Pw-1' },
      ]),
    );
    expect(res.json().errors.map((e: { message: string }) => e.message)).toEqual([
      'only a client, an instance or a subclient has an account',
      'account.userName is not text',
      'account.password is not valid base64',
      'account.password must not be blank',
      'account must be an object {"userName","password"}',
    ]);
    expect(res.body).not.toContain('Plain text');
    expect(await t.store.db.selectFrom('entity_accounts').selectAll().execute()).toEqual([]);
  });
});

describe('what a whole-body update means for the account (property)', () => {
  const name = fc.constantFrom('a\\x', 'a\\y', 'b\\x');
  it('the read user name sent back without a password is no change; a password always sets; refusals change nothing', () => {
    fc.assert(
      fc.property(
        fc.option(name, { nil: null }),
        fc.option(fc.oneof(name, fc.constant('')), { nil: undefined }),
        fc.option(fc.constantFrom('', 'Pw-1'), { nil: undefined }),
        (current, userName, password) => {
          const ch = accountChange(current, userName, password);
          const hasPw = password !== undefined && password !== '';
          if (userName === current || (userName === undefined && !hasPw)) {
            if (!hasPw) expect(ch.op).toBe('none');
          }
          if (ch.op === 'set') expect(ch.password).toBe(password);
          if (ch.op === 'rename') expect(current).not.toBeNull();
          if (ch.op === 'clear') expect(current).not.toBeNull();
          if (hasPw && userName !== '' && (userName !== undefined || current !== null)) expect(ch.op).toBe('set');
          if (current === null && userName !== undefined && userName !== '' && !hasPw) expect(ch.op).toBe('refuse');
        },
      ),
    );
  });
});
