import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BASE, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { fileSystemEstate } from '../catalogue/fixtures.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

// What cvpysdk sent for browse, find, all versions, restore in place and out
// of place, and job details (recorded against a live server; ids are rewritten).
const WIRE = JSON.parse(readFileSync(new URL('./cvpysdk-wire.json', import.meta.url), 'utf8')) as Array<{
  method: string;
  url: string;
  payload: Record<string, unknown>;
}>;

type Ids = { client: number; backupSet: number; subclient: number; dest?: string };
function wire(i: number, ids: Ids): Record<string, unknown> {
  const text = JSON.stringify(WIRE[i]?.payload)
    .replace(/"clientId":\s*1\b/g, `"clientId":${ids.client}`)
    .replace(/"backupsetId":\s*4\b/g, `"backupsetId":${ids.backupSet}`)
    .replace(/"subclientId":\s*5\b/g, `"subclientId":${ids.subclient}`)
    .replace(/"clientName":\s*"win01"/g, `"clientName":"${ids.dest ?? 'win01'}"`);
  return JSON.parse(text);
}
const BROWSE = 0;
const FIND = 1;
const VERSIONS = 2;
const RESTORE_IN = 3;
const RESTORE_OUT = 6;

const ndjson = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join('\n');

async function setup(token = admin, client = 'lin01') {
  const subclient = await fileSystemEstate(t, token, client, { os: 'Linux' });
  const view = await t.ctx.authz.current();
  const backupSet = view.entity({ type: 7, id: subclient })?.parentId as number;
  const instance = view.entity({ type: 6, id: backupSet })?.parentId as number;
  const agent = view.entity({ type: 5, id: instance })?.parentId as number;
  const clientId = view.entity({ type: 4, id: agent })?.parentId as number;
  const res = await t.inject({
    method: 'POST',
    url: `${BASE}/Catalogue/Import`,
    headers: { authtoken: token, 'content-type': 'application/x-ndjson', accept: 'application/json' },
    payload: ndjson([
      {
        subclientId: subclient,
        backupLevel: 'Full',
        startTime: 1_700_000_000,
        endTime: 1_700_000_600,
        files: [
          { path: '/data/a.txt', size: 10, modificationTime: 1_699_999_000 },
          { path: '/data/sub/b.txt', size: 20, modificationTime: 1_699_999_100 },
          { path: '/etc/hosts', size: 5, modificationTime: 1_699_990_000 },
        ],
      },
      {
        subclientId: subclient,
        backupLevel: 'Incremental',
        startTime: 1_700_100_000,
        endTime: 1_700_100_060,
        files: [
          { path: '/data/a.txt', size: 11, modificationTime: 1_700_050_000 },
          { path: '/etc/hosts', size: 5, modificationTime: 1_699_990_000, deleted: true },
        ],
      },
    ]),
  });
  expect(res.json().errors, res.body).toEqual([]);
  return { client: clientId, agent, instance, backupSet, subclient };
}

const browse = (token: string, body: unknown) => t.call('POST', '/DoBrowse', token, body);
const resultsOf = (res: { json(): any }) =>
  (res.json().browseResponses?.[0]?.browseResult?.dataResultSet ?? []) as Array<Record<string, any>>;

async function userWith(name: string, entityType: number, entityId: number, role: string, company = '') {
  const login = company ? `${company}\\${name}` : name;
  await t.call('POST', '/User', admin, {
    users: [{ userEntity: { userName: login }, email: `${name}@x.example`, password: b64('User-Passw0rd!') }],
  });
  const res = await t.call('POST', '/Security', admin, {
    entityAssociated: { entity: [{ entityType, entityId }] },
    securityAssociations: {
      associationsOperationType: 'ADD',
      associations: [{ userOrGroup: [{ userName: login }], properties: { role: { roleName: role } } }],
    },
  });
  expect(res.json().response[0].errorCode, res.body).toBe(0);
  return t.login(login, 'User-Passw0rd!');
}

describe('navigation as cvpysdk reads it', () => {
  it('Client/{id} osInfo, Agent, Instance, Backupset, Subclient lists and by id', async () => {
    const ids = await setup();
    const win = await fileSystemEstate(t, admin, 'win01', { os: 'Windows' });
    const client = (await t.call('GET', `/Client/${ids.client}`, admin)).json().clientProperties[0];
    expect(client.client.osInfo).toMatchObject({ Type: 'Unix', OsDisplayInfo: { OSName: 'Linux' } });
    expect(client.client.clientEntity.clientName).toBe('lin01');
    expect(client.clientProps.activityControl.EnableDataRecovery).toBe(true);
    const agents = (await t.call('GET', `/Agent?clientId=${ids.client}`, admin)).json().agentProperties;
    expect(agents).toEqual([
      expect.objectContaining({ idaEntity: expect.objectContaining({ appName: 'File System', applicationId: 29 }) }),
    ]);
    const one = await t.call('GET', `/Agent?clientId=${ids.client}&applicationId=29&propertyLevel=30`, admin);
    expect(one.json().agentProperties).toHaveLength(1);
    const instances = (await t.call('GET', `/Instance?clientId=${ids.client}`, admin)).json().instanceProperties;
    expect(instances[0].instance).toMatchObject({ instanceId: ids.instance, instanceName: 'DefaultInstanceName' });
    const sets = (await t.call('GET', `/Backupset?clientId=${ids.client}&propertyLevel=10`, admin)).json();
    expect(sets.backupsetProperties[0]).toMatchObject({
      backupSetEntity: { backupsetId: ids.backupSet, backupsetName: 'defaultBackupSet', appName: 'File System' },
      commonBackupSet: { isDefaultBackupSet: true },
    });
    expect((await t.call('GET', `/Backupset/${ids.backupSet}`, admin)).json().backupsetProperties).toHaveLength(1);
    const subs = (
      await t.call('GET', `/Subclient?clientId=${ids.client}&applicationId=29&propertyLevel=20`, admin)
    ).json();
    expect(subs.subClientProperties[0].subClientEntity).toMatchObject({
      subclientId: ids.subclient,
      subclientName: 'default',
      backupsetName: 'defaultBackupSet',
      instanceName: 'DefaultInstanceName',
      appName: 'File System',
    });
    const sub = (await t.call('GET', `/Subclient/${ids.subclient}`, admin)).json().subClientProperties[0];
    expect(sub.commonProperties.isDefaultSubclient).toBe(true);
    expect(sub.fsSubClientProp).toBeDefined();
    // A Windows client's File System agent is 33, by its OS.
    const winSub = (await t.call('GET', `/Subclient/${win}`, admin)).json().subClientProperties[0];
    expect(winSub.subClientEntity.applicationId).toBe(33);
    const winClient = winSub.subClientEntity.clientId;
    expect((await t.call('GET', `/Client/${winClient}`, admin)).json().clientProperties[0].client.osInfo.Type).toBe(
      'Windows',
    );
    expect((await t.call('GET', `/Subclient?clientId=${winClient}&applicationId=29`, admin)).json()).toEqual({
      subClientProperties: [],
    });
  });

  it('needs View on the client; lists only what the caller may see; another tenant is 1200', async () => {
    const ids = await setup();
    const viewer = await userWith('viewer', 7, ids.subclient, 'View');
    // View on the subclient alone: not the client's lists, but the subclient itself.
    expect((await t.call('GET', `/Subclient?clientId=${ids.client}`, viewer)).json().errorCode).toBe(587204594);
    expect((await t.call('GET', `/Subclient/${ids.subclient}`, viewer)).json().subClientProperties).toHaveLength(1);
    expect((await t.call('GET', `/Backupset/${ids.backupSet}`, viewer)).json().errorCode).toBe(587204594);
    const acme = await makeTenant(t, admin, 'acme');
    for (const path of [
      `/Agent?clientId=${ids.client}`,
      `/Instance?clientId=${ids.client}`,
      `/Backupset?clientId=${ids.client}`,
      `/Subclient?clientId=${ids.client}`,
      `/Subclient/${ids.subclient}`,
      `/Backupset/${ids.backupSet}`,
      '/Agent?clientId=abc',
      '/Agent',
    ]) {
      const res = await t.call('GET', path, acme.token);
      expect(res.json().errorCode, path).toBe(1200);
    }
  });
});

describe('POST DoBrowse', () => {
  it('browse, find and all versions as cvpysdk sends them', async () => {
    const ids = await setup();
    const listed = resultsOf(await browse(admin, wire(BROWSE, ids)));
    expect(listed.map((r) => [r.path, r.flags.file, r.size])).toEqual([
      ['/data/sub', false, 20],
      ['/data/a.txt', true, 11],
    ]);
    expect(listed[1]).toMatchObject({
      displayName: 'a.txt',
      name: 'a.txt',
      modificationTime: 1_700_050_000,
      flags: { file: true, deleted: false },
      advancedData: { backupTime: 1_700_100_060 },
    });
    const found = resultsOf(await browse(admin, wire(FIND, ids)));
    expect(found.map((r) => r.path)).toEqual(['/data/a.txt', '/data/sub/b.txt']);
    const versions = resultsOf(await browse(admin, wire(VERSIONS, ids)));
    expect(versions.map((r) => [r.size, r.advancedData.backupTime, r.version])).toEqual([
      [11, 1_700_100_060, 2],
      [10, 1_700_000_600, 1],
    ]);
  });

  it('time range, deleted items, paging with a cap, and the root', async () => {
    const ids = await setup();
    const body = (over: Record<string, unknown>) => ({ ...wire(BROWSE, ids), ...over });
    const atFirst = resultsOf(await browse(admin, body({ timeRange: { fromTime: 0, toTime: 1_700_000_600 } })));
    expect(atFirst.find((r) => r.name === 'a.txt')?.size).toBe(10);
    const etc = { paths: [{ path: '/etc' }] };
    expect(resultsOf(await browse(admin, body(etc)))).toEqual([]);
    const deleted = resultsOf(await browse(admin, body({ ...etc, options: { showDeletedFiles: true } })));
    expect(deleted.map((r) => [r.name, r.flags.deleted])).toEqual([['hosts', true]]);
    const root = resultsOf(await browse(admin, body({ paths: [{ path: '\\' }] })));
    expect(root.map((r) => r.path)).toEqual(['/data', '/etc']);
    const page = await browse(
      admin,
      body({ queries: [{ dataParam: { paging: { pageSize: 1, skipNode: 1 } } }], paths: [{ path: '/' }] }),
    );
    expect(resultsOf(page).map((r) => r.path)).toEqual(['/etc']);
    expect(page.json().browseResponses[0].browseResult.totalItemsFound).toBe(2);
    const bad = await browse(admin, body({ queries: [{ dataParam: { paging: { pageSize: -1 } } }] }));
    expect(bad.statusCode).toBe(400);
    expect((await browse(admin, body({ opType: 5 }))).json().errorCode).toBe(1204);
    expect((await browse(admin, body({ entity: {} }))).statusCode).toBe(400);
  });

  it('needs Browse on the subclient; another tenant is 1200 in the shape cvpysdk reads; audited', async () => {
    const ids = await setup();
    const viewer = await userWith('viewer', 7, ids.subclient, 'View');
    const refused = await browse(viewer, wire(BROWSE, ids));
    expect(refused.json().errorCode).toBe(587204594);
    expect(refused.json().browseResponses[0].messages[0].errorCode).toBe(587204594);
    const operator = await userWith('operator', 7, ids.subclient, 'Restore Operator');
    expect(resultsOf(await browse(operator, wire(BROWSE, ids)))).toHaveLength(2);
    const acme = await makeTenant(t, admin, 'acme');
    const other = await browse(acme.token, wire(BROWSE, ids));
    expect(other.json().errorCode).toBe(1200);
    expect(other.body).not.toContain('a.txt');
    const audit = await t.store.db.selectFrom('audit_log').selectAll().where('operation', '=', 'browse').execute();
    expect(audit.map((a) => [a.actor_name, a.outcome])).toEqual([
      ['viewer', 'failure'],
      ['operator', 'success'],
      ['acme\\tadmin', 'failure'],
    ]);
    expect(JSON.parse(audit[1]?.details ?? '{}')).toMatchObject({ paths: ['/data'], returned: 2 });
  });

  it('the passkey gate: guarded and no window is 1410; an open window lets it through', async () => {
    const ids = await setup();
    await t.store.db.updateTable('companies').set({ passkey_hash: 'set' }).where('id', '=', 0).execute();
    const closed = await browse(admin, wire(BROWSE, ids));
    expect(closed.json().errorCode).toBe(1410);
    expect(closed.json().browseResponses[0].messages[0].errorMessage).toMatch(/authorize for restore first/);
    expect((await t.call('POST', '/CreateTask', admin, wire(RESTORE_IN, ids))).json().errorCode).toBe(1410);
    const until = new Date(t.clock.now().getTime() + 60_000).toISOString();
    await t.store.db.updateTable('companies').set({ authorize_until: until }).where('id', '=', 0).execute();
    expect(resultsOf(await browse(admin, wire(BROWSE, ids)))).toHaveLength(2);
    t.clock.advance(61_000);
    expect((await browse(admin, wire(BROWSE, ids))).json().errorCode).toBe(1410);
  });
});

describe('POST CreateTask and the job', () => {
  it('in place: a job that runs to Completed on the clock; Job/{id}, JobDetails, Jobs; audited', async () => {
    const ids = await setup();
    const res = await t.call('POST', '/CreateTask', admin, wire(RESTORE_IN, ids));
    const jobId = res.json().jobIds?.[0] as string;
    expect(jobId, res.body).toMatch(/^\d+$/);
    const status = async () => (await t.call('GET', `/Job/${jobId}`, admin)).json().jobs[0].jobSummary.status;
    expect((await t.call('GET', `/Job/${jobId}`, admin)).json()).toMatchObject({
      totalRecordsWithoutPaging: 1,
      jobs: [{ jobSummary: { jobId: Number(jobId), jobType: 'Restore', status: 'Pending', isVisible: true } }],
    });
    t.clock.advance(2000);
    expect(await status()).toBe('Running');
    t.clock.advance(4000);
    expect(await status()).toBe('Completed');
    const details = await t.call('POST', '/JobDetails', admin, { jobId: Number(jobId), showAttempt: true });
    expect(details.json().job.jobDetail.progressInfo.percentComplete).toBe(100);
    const jobs = (await t.call('POST', '/Jobs', admin, { pagingConfig: { offset: 0, limit: 10 } })).json();
    expect(jobs.totalRecordsWithoutPaging).toBe(3);
    expect(jobs.jobs[0].jobSummary.jobId).toBe(Number(jobId));
    const [rec] = await t.store.db.selectFrom('audit_log').selectAll().where('operation', '=', 'restore').execute();
    expect(rec?.outcome).toBe('success');
    expect(JSON.parse(rec?.details ?? '{}')).toMatchObject({ paths: ['/data/a.txt'], inPlace: true });
  });

  it('out of place needs the right on the destination client too; paths must be in the catalogue', async () => {
    const ids = await setup();
    const dest = await setup(admin, 'win01');
    const out = await t.call('POST', '/CreateTask', admin, wire(RESTORE_OUT, ids));
    expect(out.json().jobIds, out.body).toHaveLength(1);
    // Out-of-Place Restore on the source subclient alone is not enough.
    const op = await userWith('op', 7, ids.subclient, 'Restore Operator');
    expect((await t.call('POST', '/CreateTask', op, wire(RESTORE_OUT, ids))).json().errorCode).toBe(587204594);
    expect((await t.call('POST', '/CreateTask', op, wire(RESTORE_IN, ids))).json().jobIds).toHaveLength(1);
    const grant = await t.call('POST', '/Security', admin, {
      entityAssociated: { entity: [{ entityType: 3, entityId: dest.client }] },
      securityAssociations: {
        associationsOperationType: 'ADD',
        associations: [{ userOrGroup: [{ userName: 'op' }], properties: { role: { roleName: 'Restore Operator' } } }],
      },
    });
    expect(grant.json().response[0].errorCode).toBe(0);
    expect((await t.call('POST', '/CreateTask', op, wire(RESTORE_OUT, ids))).json().jobIds).toHaveLength(1);
    const viewer = await userWith('viewer', 7, ids.subclient, 'View');
    expect((await t.call('POST', '/CreateTask', viewer, wire(RESTORE_IN, ids))).json().errorCode).toBe(587204594);
    // A path the catalogue does not hold, a missing destination client, no path at all.
    const body = wire(RESTORE_IN, ids) as any;
    body.taskInfo.subTasks[0].options.restoreOptions.fileOption.sourceItem = ['/nope.txt'];
    expect((await t.call('POST', '/CreateTask', admin, body)).json().errorCode).toBe(1200);
    body.taskInfo.subTasks[0].options.restoreOptions.fileOption.sourceItem = [];
    expect((await t.call('POST', '/CreateTask', admin, body)).statusCode).toBe(400);
    expect(
      (await t.call('POST', '/CreateTask', admin, wire(RESTORE_OUT, { ...ids, dest: 'ghost' }))).json().errorCode,
    ).toBe(1200);
    // Another company's subclient and jobs are not found.
    const acme = await makeTenant(t, admin, 'acme');
    expect((await t.call('POST', '/CreateTask', acme.token, wire(RESTORE_IN, ids))).json().errorCode).toBe(1200);
    const jobId = out.json().jobIds[0];
    expect((await t.call('GET', `/Job/${jobId}`, acme.token)).json().errorCode).toBe(1200);
    expect((await t.call('POST', '/JobDetails', acme.token, { jobId: Number(jobId) })).json().errorCode).toBe(1200);
    expect((await t.call('POST', '/Jobs', acme.token, {})).json()).toEqual({ totalRecordsWithoutPaging: 0, jobs: [] });
    const audit = await t.store.db
      .selectFrom('audit_log')
      .select(['actor_name', 'outcome'])
      .where('operation', '=', 'restore')
      .execute();
    expect(audit.filter((a) => a.outcome === 'failure').length).toBeGreaterThanOrEqual(4);
  });
});

describe('hostile bodies', () => {
  it('DoBrowse, CreateTask and JobDetails never answer 5xx', async () => {
    const ids = await setup();
    const { default: fc } = await import('fast-check');
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constantFrom(
          ids.subclient,
          ids.backupSet,
          '5',
          '\\**\\*',
          '/data',
          'C:\\',
          '*',
          '%',
          '_',
          '/\u0000',
          2 ** 53,
        ),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(
          fc.constantFrom(
            'opType',
            'entity',
            'subclientId',
            'paths',
            'path',
            'timeRange',
            'toTime',
            'queries',
            'jobId',
          ),
          tie('v'),
          { maxKeys: 4 },
        ),
      ),
    })).v;
    const mutate = (base: Record<string, unknown>) =>
      fc.tuple(fc.constantFrom(...Object.keys(base)), value).map(([k, v]) => ({ ...base, [k]: v }));
    const browseBase = wire(BROWSE, ids);
    const restoreBase = wire(RESTORE_IN, ids);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutate(browseBase).map((b) => ['/DoBrowse', b] as const),
          value.map((b) => ['/DoBrowse', b] as const),
          value.map((b) => ['/CreateTask', { taskInfo: b }] as const),
          mutate(restoreBase).map((b) => ['/CreateTask', b] as const),
          value.map((b) => ['/JobDetails', { jobId: b }] as const),
        ),
        async ([path, body]) => {
          const res = await t.call('POST', path, admin, body);
          expect(res.statusCode, `${path} ${JSON.stringify(body)} ${res.body}`).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });
});
