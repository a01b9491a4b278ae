import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE, b64, makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { fileSystemEstate } from './fixtures.js';

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
});

type Line = Record<string, unknown> | string;
const ndjson = (lines: Line[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

const importRaw = (token: string, body: string, headers: Record<string, string> = {}) =>
  t.inject({
    method: 'POST',
    url: `${BASE}/Catalogue/Import`,
    headers: { authtoken: token, 'content-type': 'application/x-ndjson', accept: 'application/json', ...headers },
    payload: body,
  });

interface Reply {
  imported: number;
  files: number;
  results: Array<{ line: number; jobId: number; subclientId: number; files: number }>;
  errors: Array<{ line: number; errorCode: number; message: string }>;
}

async function importCat(token: string, lines: Line[]): Promise<Reply> {
  const res = await importRaw(token, ndjson(lines));
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Reply;
}

const estate = (token: string, client: string) => fileSystemEstate(t, token, client);

const job = (subclientId: number, extra: Record<string, unknown> = {}) => ({
  subclientId,
  backupLevel: 'Full',
  startTime: 1_700_000_000,
  endTime: 1_700_000_600,
  files: [
    { path: '/data/a.txt', size: 10, modificationTime: 1_699_999_000 },
    { path: '/data/sub/b.txt', size: 20, modificationTime: 1_699_999_100, deleted: false },
  ],
  ...extra,
});

const count = async (table: 'jobs' | 'catalogue_items') =>
  Number(
    (
      await t.store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const auditOf = (operation: string) =>
  t.store.db.selectFrom('audit_log').selectAll().where('operation', '=', operation).orderBy('seq').execute();

describe('POST Catalogue/Import', () => {
  it('imports jobs with their files; folders are implied; ids given or allocated; audited', async () => {
    const sc = await estate(admin, 'db01');
    const r = await importCat(admin, [
      job(sc, { jobId: 500 }),
      '',
      job(sc, {
        backupLevel: 'incremental',
        startTime: 1_700_100_000,
        endTime: 1_700_100_060,
        files: [{ path: '/data/a.txt', size: 11, modificationTime: 1_700_050_000 }],
      }),
      job(sc, {
        backupLevel: 'Synthetic Full',
        files: [{ path: 'C:\\Users\\bob\\x.doc', size: 5, modificationTime: 1 }],
      }),
    ]);
    expect(r.errors).toEqual([]);
    expect(r.imported).toBe(3);
    expect(r.files).toBe(4);
    expect(r.results).toEqual([
      { line: 1, jobId: 500, subclientId: sc, files: 2 },
      { line: 3, jobId: 501, subclientId: sc, files: 1 },
      { line: 4, jobId: 502, subclientId: sc, files: 1 },
    ]);
    const items = await t.store.db
      .selectFrom('catalogue_items')
      .select(['job_id', 'folder', 'name', 'path', 'is_folder', 'size'])
      .where('job_id', '=', 500)
      .orderBy('path')
      .execute();
    expect(items.map((i) => [i.folder, i.name, i.path, i.is_folder, Number(i.size)])).toEqual([
      ['/', 'data', '/data', 1, 30],
      ['/data', 'a.txt', '/data/a.txt', 0, 10],
      ['/data', 'sub', '/data/sub', 1, 20],
      ['/data/sub', 'b.txt', '/data/sub/b.txt', 0, 20],
    ]);
    const win = await t.store.db
      .selectFrom('catalogue_items')
      .select(['folder', 'name', 'path'])
      .where('job_id', '=', 502)
      .orderBy('path')
      .execute();
    expect(win).toEqual([
      { folder: '/', name: 'C:', path: 'C:' },
      { folder: '/C:', name: 'Users', path: 'C:\\Users' },
      { folder: '/C:/Users', name: 'bob', path: 'C:\\Users\\bob' },
      { folder: '/C:/Users/bob', name: 'x.doc', path: 'C:\\Users\\bob\\x.doc' },
    ]);
    const [rec] = await auditOf('catalogue.import');
    expect(rec?.outcome).toBe('success');
    expect(JSON.parse(rec?.details ?? '{}')).toMatchObject({ jobs: 3, files: 4, subclients: [sc] });
  });

  it('refuses the whole import for any bad line, listing each with its code', async () => {
    const sc = await estate(admin, 'db01');
    await importCat(admin, [job(sc, { jobId: 7 })]);
    const r = await importCat(admin, [
      job(sc),
      '{not json',
      '[1]',
      job(sc, { backupLevel: 'Weekly' }),
      job(sc, { startTime: 10, endTime: 5 }),
      job(sc, { files: [{ path: 'relative/x', size: 1, modificationTime: 1 }] }),
      job(sc, { files: [{ path: '/a', size: -1, modificationTime: 1 }] }),
      job(sc, {
        files: [
          { path: '/a', size: 1, modificationTime: 1 },
          { path: '/a', size: 1, modificationTime: 1 },
        ],
      }),
      job(sc, {
        files: [
          { path: '/a', size: 1, modificationTime: 1 },
          { path: '/a/b', size: 1, modificationTime: 1 },
        ],
      }),
      job(sc, { jobId: 7 }),
      job(999_999),
      job(sc, { subclientId: 'x' }),
      job(sc, { files: [{ path: '/a/../b', size: 1, modificationTime: 1 }] }),
    ]);
    expect(r.imported).toBe(0);
    expect(r.results).toEqual([]);
    expect(r.errors.map((e) => [e.line, e.errorCode])).toEqual([
      [2, 1204],
      [3, 1204],
      [4, 1204],
      [5, 1204],
      [6, 1204],
      [7, 1204],
      [8, 1204],
      [9, 1204],
      [10, 1201],
      [11, 1200],
      [12, 1204],
      [13, 1204],
    ]);
    expect(r.errors[5]?.message).toMatch(/size/);
    expect(r.errors[6]?.message).toMatch(/appears twice/);
    expect(r.errors[7]?.message).toMatch(/both a file and a folder/);
    expect(r.errors[8]?.message).toBe('job 7 already exists');
    expect(r.errors[9]?.message).toBe('unknown subclient 999999');
    expect(await count('jobs')).toBe(1);
    const recs = await auditOf('catalogue.import');
    expect(recs.at(-1)?.outcome).toBe('failure');
  });

  it('takes only application/x-ndjson, and needs a token', async () => {
    const sc = await estate(admin, 'db01');
    const json = await t.call('POST', '/Catalogue/Import', admin, job(sc));
    expect(json.statusCode).toBe(415);
    expect(json.json().errorCode).toBe(1006);
    const none = await t.inject({
      method: 'POST',
      url: `${BASE}/Catalogue/Import`,
      headers: { 'content-type': 'application/x-ndjson' },
      payload: ndjson([job(sc)]),
    });
    expect(none.statusCode).toBe(401);
    expect(await count('jobs')).toBe(0);
  });

  it('takes a body over BULWARK_BODY_LIMIT (1 MiB), streamed', async () => {
    const sc = await estate(admin, 'db01');
    const files = Array.from({ length: 20_000 }, (_, i) => ({
      path: `/big/dir${i % 50}/file-${i}-${'x'.repeat(40)}.bin`,
      size: i,
      modificationTime: 1_600_000_000 + i,
    }));
    const body = ndjson([job(sc, { files })]);
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const r = await importCat(admin, [job(sc, { files })]);
    expect(r.errors).toEqual([]);
    expect(r.files).toBe(20_000);
    expect(await count('catalogue_items')).toBe(20_000 + 51);
  });

  it("another company's subclient is unknown (1200); its own loads", async () => {
    const mine = await estate(admin, 'db01');
    const acme = await makeTenant(t, admin, 'acme');
    const theirs = await estate(acme.token, 'web01');
    const r = await importCat(acme.token, [job(mine)]);
    expect(r.errors).toEqual([{ line: 1, errorCode: 1200, message: `unknown subclient ${mine}` }]);
    expect((await importCat(acme.token, [job(theirs)])).imported).toBe(1);
    const [rec] = (await auditOf('catalogue.import')).filter((x) => x.outcome === 'success');
    expect(rec?.company_id).toBe(acme.companyId);
    // The refusal was audited as one.
    expect((await auditOf('access.denied')).some((x) => x.target_id === 'line 1')).toBe(true);
  });

  it('needs Data Protection on the subclient (587204594 with View only)', async () => {
    const sc = await estate(admin, 'db01');
    await t.call('POST', '/User', admin, {
      users: [{ userEntity: { userName: 'viewer' }, email: 'v@x.example', password: b64('Viewer-Passw0rd!') }],
    });
    const grant = async (role: string) => {
      const res = await t.call('POST', '/Security', admin, {
        entityAssociated: { entity: [{ entityType: 7, entityId: sc }] },
        securityAssociations: {
          associationsOperationType: 'ADD',
          associations: [{ userOrGroup: [{ userName: 'viewer' }], properties: { role: { roleName: role } } }],
        },
      });
      expect(res.json().response[0].errorCode, res.body).toBe(0);
    };
    await grant('View');
    const viewer = await t.login('viewer', 'Viewer-Passw0rd!');
    const r = await importCat(viewer, [job(sc)]);
    expect(r.errors[0]?.errorCode).toBe(587204594);
    expect(r.errors[0]?.message).toMatch(/Data Protection/);
    await grant('Tenant Operator');
    expect((await importCat(viewer, [job(sc)])).imported).toBe(1);
  });

  it('hostile lines never get a 5xx and never import a bad job', async () => {
    const sc = await estate(admin, 'db01');
    const anyValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 3 }),
    );
    const file = fc.record(
      {
        path: fc.oneof(
          fc.string(),
          fc.constantFrom('/a', '/a/b', 'C:\\x\\y', '\\\\srv\\s', '/', '//', '/\u0000', '/\ud800'),
          anyValue,
        ),
        size: fc.oneof(fc.nat(), fc.integer(), fc.double(), anyValue),
        modificationTime: fc.oneof(fc.nat(), anyValue),
        deleted: fc.oneof(fc.boolean(), anyValue),
      },
      { requiredKeys: [] },
    );
    const line = fc.oneof(
      fc.string(),
      fc
        .record(
          {
            subclientId: fc.oneof(fc.constant(sc), fc.integer(), anyValue),
            jobId: fc.oneof(fc.integer(), fc.constant(2 ** 31), anyValue),
            backupLevel: fc.oneof(fc.constantFrom('Full', 'Incremental', 'Differential', 'Synthetic Full'), anyValue),
            startTime: fc.oneof(fc.nat(), fc.integer(), anyValue),
            endTime: fc.oneof(fc.nat(), fc.constant(2 ** 60), anyValue),
            files: fc.oneof(fc.array(file, { maxLength: 4 }), anyValue),
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 5 }), async (lines) => {
        const res = await importRaw(admin, lines.join('\n'));
        expect(res.statusCode, res.body).toBeLessThan(500);
        if (res.statusCode === 200) {
          const body = res.json() as Reply;
          if (body.errors.length > 0) expect(body.imported).toBe(0);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('entity import lines: appId on agents, os on clients', () => {
  const imp = (lines: Line[]) =>
    t.inject({
      method: 'POST',
      url: `${BASE}/Entities/Import`,
      headers: { authtoken: admin, 'content-type': 'application/x-ndjson', accept: 'application/json' },
      payload: ndjson(lines),
    });

  it('stores them, and refuses them where they do not belong', async () => {
    const ok = await imp([
      { type: 'client', name: 'win01', os: 'windows' },
      { type: 'agent', name: 'File System', appId: 33, parent: { type: 'client', name: 'win01' } },
      { type: 'client', name: 'lin01' },
    ]);
    expect(ok.json().errors, ok.body).toEqual([]);
    const [win, agent] = ok.json().results.map((r: { entityId: number }) => r.entityId);
    const rows = await t.store.db.selectFrom('entity_attributes').selectAll().orderBy('entity_id').execute();
    expect(rows).toEqual([
      { entity_id: win, app_id: null, os: 'Windows' },
      { entity_id: agent, app_id: 33, os: null },
    ]);
    const bad = await imp([
      { type: 'client', name: 'x', os: 'Plan9' },
      { type: 'client', name: 'y', appId: 29 },
      { type: 'agent', name: 'File System', appId: '29', parent: { type: 'client', name: 'lin01' } },
      { type: 'plan', name: 'p', os: 'Linux' },
    ]);
    expect(bad.json().errors.map((e: { line: number }) => e.line)).toEqual([1, 2, 3, 4]);
    expect(bad.json().errors[0].message).toMatch(/os must be one of Windows, Linux/);
  });
});
