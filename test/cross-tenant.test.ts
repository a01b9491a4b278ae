import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type RouteInfo } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { addEntities } from './estate.js';
import { b64, makeTenant, startApp, type TestApp } from './harness.js';

// Every CommServe route that takes an id, called by one company's administrator
// with another company's ids: each must answer "not found" (1200), never
// "forbidden" and never the object. A new route with an id fails this suite
// until it is added to the table below.

let t: TestApp;
let routes: RouteInfo[];
let acme: Awaited<ReturnType<typeof makeTenant>>;
const beta = {
  company: 0,
  user: 0,
  group: 0,
  role: 0,
  client: 9001,
  clientGroup: 9002,
  plan: 9003,
  backupSet: 9006,
  subclient: 9007,
  job: 9008,
  credential: 0,
};
const MARK = 'betamark';

beforeAll(async () => {
  t = await startApp();
  const admin = await t.login();
  acme = await makeTenant(t, admin, 'acme');
  const b = await makeTenant(t, admin, MARK);
  beta.company = b.companyId;
  beta.user = b.userId;
  const group = await t.store.db
    .selectFrom('user_groups')
    .select('id')
    .where('company_id', '=', b.companyId)
    .executeTakeFirstOrThrow();
  beta.group = group.id;
  const role = await t.store.db
    .insertInto('roles')
    .values({
      company_id: b.companyId,
      name: `${MARK} role`,
      name_key: `${MARK} role`,
      created_at: new Date().toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  beta.role = role.id;
  await addEntities(t.store, [
    { id: beta.client, type: 3, companyId: b.companyId, name: `${MARK}-client` },
    { id: beta.clientGroup, type: 28, companyId: b.companyId, name: `${MARK}-group` },
    { id: beta.plan, type: 158, companyId: b.companyId, name: `${MARK}-plan` },
    { id: 9004, type: 4, companyId: b.companyId, parentId: beta.client, name: `${MARK}-agent` },
    { id: 9005, type: 5, companyId: b.companyId, parentId: 9004, name: `${MARK}-instance` },
    { id: beta.backupSet, type: 6, companyId: b.companyId, parentId: 9005, name: `${MARK}-set` },
    { id: beta.subclient, type: 7, companyId: b.companyId, parentId: beta.backupSet, name: `${MARK}-sub` },
  ]);
  await t.store.db
    .insertInto('jobs')
    .values({
      id: beta.job,
      company_id: b.companyId,
      subclient_id: beta.subclient,
      job_type: 'Backup',
      backup_level: 'Full',
      start_time: 1,
      end_time: 2,
      created_at: new Date().toISOString(),
    })
    .execute();
  await t.call('POST', '/User', admin, {
    users: [{ userEntity: { userName: `${MARK}\\worker` }, password: b64('Worker-Passw0rd!') }],
  });
  const cred = await t.call('POST', '/Commcell/Credentials', b.token, {
    credentialRecordInfo: [
      {
        recordType: 1,
        credentialRecord: { credentialName: `${MARK}-cred` },
        record: { userName: `${MARK}\\svc`, password: b64('Beta-Passw0rd') },
      },
    ],
  });
  beta.credential = cred.json().credentialRecordInfo[0].credentialRecord.credentialId;
  const built = await buildApp({
    config: { ...loadConfig({}), logLevel: 'silent' },
    store: t.store,
    clock: t.clock.now,
  });
  routes = built.routes.filter((r) => r.url.startsWith('/commandcenter/api'));
  await built.app.close();
});
afterAll(async () => {
  await t.close();
});

type Call = { path: string; body?: unknown };
const TABLE: Record<string, () => Call> = {
  'GET /Organization/:id': () => ({ path: `/Organization/${beta.company}` }),
  'GET /Organization/:id/TwoFactorAuth': () => ({ path: `/Organization/${beta.company}/TwoFactorAuth` }),
  'PUT /Organization/:id': () => ({
    path: `/Organization/${beta.company}`,
    body: { organizationInfo: { organization: { description: 'taken over' } } },
  }),
  'GET /User/:id': () => ({ path: `/User/${beta.user}` }),
  'POST /User/:id': () => ({ path: `/User/${beta.user}`, body: { users: [{ email: 'x@acme.example' }] } }),
  'GET /Security/:entityType/:entityId': () => ({ path: `/Security/3/${beta.client}` }),
  'GET /Role/:id': () => ({ path: `/Role/${beta.role}` }),
  'POST /Role/:id': () => ({ path: `/Role/${beta.role}`, body: { roles: [{ role: { roleName: 'taken' } }] } }),
  'DELETE /Role/:id': () => ({ path: `/Role/${beta.role}` }),
  'GET /UserGroup/:id': () => ({ path: `/UserGroup/${beta.group}` }),
  'POST /UserGroup/:id': () => ({ path: `/UserGroup/${beta.group}`, body: { groups: [{ description: 'taken' }] } }),
  'DELETE /UserGroup/:id': () => ({ path: `/UserGroup/${beta.group}` }),
  'POST /Entities/:type/:id': () => ({ path: `/Entities/client/${beta.client}`, body: { name: 'taken' } }),
  'DELETE /Entities/:type/:id': () => ({ path: `/Entities/client/${beta.client}` }),
  'GET /Client/:id': () => ({ path: `/Client/${beta.client}` }),
  'GET /ClientGroup/:id': () => ({ path: `/ClientGroup/${beta.clientGroup}` }),
  'GET /Plan/:id': () => ({ path: `/Plan/${beta.plan}` }),
  'GET /Backupset/:id': () => ({ path: `/Backupset/${beta.backupSet}` }),
  'GET /Subclient/:id': () => ({ path: `/Subclient/${beta.subclient}` }),
  'POST /Subclient/:id': () => ({
    path: `/Subclient/${beta.subclient}`,
    body: { subClientProperties: { impersonateUser: { userName: 'x\\taken', password: b64('Taken-Pw-1') } } },
  }),
  'GET /Instance/:id': () => ({ path: '/Instance/9005' }),
  'POST /Instance/:id': () => ({
    path: '/Instance/9005',
    body: { instanceProperties: { impersonateUser: { userName: 'x\\taken', password: b64('Taken-Pw-1') } } },
  }),
  'POST /Client/:id': () => ({
    path: `/Client/${beta.client}`,
    body: {
      clientProperties: { clientProps: { impersonateUser: { userName: 'x\\taken', password: b64('Taken-Pw-1') } } },
    },
  }),
  'GET /Job/:id': () => ({ path: `/Job/${beta.job}` }),
  'POST /Company/:id/Passkey': () => ({
    path: `/Company/${beta.company}/Passkey`,
    body: { newPasskey: b64('Taken-Passkey!1'), confirmPasskey: b64('Taken-Passkey!1'), passkeyOpType: 'CREATE' },
  }),
  'POST /Company/:id/AuthRestore': () => ({
    path: `/Company/${beta.company}/AuthRestore`,
    body: { passkey: b64('Taken-Passkey!1'), passkeySettings: { enableAuthorizeForRestore: true } },
  }),
  'GET /CommCell/Credentials/:id': () => ({ path: `/CommCell/Credentials/${beta.credential}` }),
  'GET /V5/credential/:id': () => ({ path: `/V5/credential/${beta.credential}` }),
  'POST /Client/:id/Passkey': () => ({
    path: `/Client/${beta.client}/Passkey`,
    body: { newPasskey: b64('Taken-Passkey!1'), confirmPasskey: b64('Taken-Passkey!1'), passkeyOpType: 'CREATE' },
  }),
};

const codeOf = (body: any): number | undefined =>
  body?.errorCode ?? body?.response?.[0]?.errorCode ?? body?.response?.errorCode ?? body?.error?.errorCode;

describe("another company's ids", () => {
  it('every route with an id answers 1200 and reveals nothing', async () => {
    const withIds = routes.filter((r) => r.url.includes(':'));
    expect(withIds.length).toBeGreaterThan(10);
    for (const r of withIds) {
      const key = `${r.method} ${r.url.replace('/commandcenter/api', '')}`;
      const make = TABLE[key];
      expect(make, `add ${key} to the cross-tenant table`).toBeDefined();
      const { path, body } = (make as () => Call)();
      const res = await t.call(r.method, path, acme.token, body ?? (r.method === 'POST' ? {} : undefined));
      expect(res.statusCode, key).toBeLessThan(500);
      expect(codeOf(res.json()), `${key}: ${res.body}`).toBe(1200);
      expect(res.body.toLowerCase(), key).not.toContain(MARK);
    }
  });

  it('no list shows them', async () => {
    for (const r of routes.filter((x) => x.method === 'GET' && !x.url.includes(':'))) {
      const path = r.url.replace('/commandcenter/api', '');
      const res = await t.call('GET', path, acme.token);
      expect(res.statusCode, path).toBeLessThan(500);
      expect(res.body.toLowerCase(), path).not.toContain(MARK);
    }
    for (const q of [`?companyId=${beta.company}`, `?userId=${beta.user}`, `?userName=${MARK}%5Ctadmin`]) {
      const res = await t.call('GET', `/AuditTrail${q}`, acme.token);
      expect(res.json()).toEqual({ auditTrail: [], totalRecords: 0 });
    }
  });

  it('nothing of theirs can be named in a write', async () => {
    const security = await t.call('POST', '/Security', acme.token, {
      entityAssociated: { entity: [{ clientId: beta.client }] },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [{ userOrGroup: [{ userName: 'tadmin' }], properties: { role: { roleName: 'View' } } }],
      },
    });
    expect(codeOf(security.json())).toBe(1200);
    const grantTheirs = await t.call('POST', '/Security', acme.token, {
      entityAssociated: { entity: [{ providerId: acme.companyId }] },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [{ userOrGroup: [{ userId: beta.user }], properties: { role: { roleId: beta.role } } }],
      },
    });
    expect(codeOf(grantTheirs.json())).toBe(1200);
    const user = await t.call('POST', '/User', acme.token, {
      users: [{ userEntity: { userName: `${MARK}\\intruder` }, password: b64('Intruder-Passw0rd!') }],
    });
    expect(codeOf(user.json())).toBe(1200);
  });
});
