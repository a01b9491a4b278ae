import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASE, makeTenant, type TestApp, withApp } from '../../../test/harness.js';
import { fileSystemEstate } from '../catalogue/fixtures.js';
import { MAX_BROWSE_PATHS } from './browse.js';
import { MAX_JOB_CLIENTS } from './jobs.js';

// What cvpysdk sends beyond a plain browse (recorded against a live server, the
// demo estate: acme-web01 Linux client 2 / backup set 5 / subclient 6, acme-fs01
// Windows client 7 / backup set 10 / subclient 11): browse and find of several
// paths, find's file-size filters, restores of chosen versions, Windows paths in
// another case, and JobController's filters.

let t: TestApp;
let admin: string;
withApp((app, token) => {
  [t, admin] = [app, token];
}, 'all');

type Wire = { label: string; url: string; payload: Record<string, unknown> };
const WIRE = JSON.parse(readFileSync(new URL('./cvpysdk-wire-gaps.json', import.meta.url), 'utf8')) as Wire[];

interface Ids {
  lin: { client: number; backupSet: number; subclient: number };
  win: { client: number; backupSet: number; subclient: number };
}
let ids: Ids;

/** The recorded body, with the demo's ids replaced by this estate's. */
function wire(label: string): any {
  const w = WIRE.find((x) => x.label === label);
  if (!w) throw new Error(`no recorded ${label}`);
  const map: Record<string, Record<number, number>> = {
    clientId: { 2: ids.lin.client, 7: ids.win.client },
    backupsetId: { 5: ids.lin.backupSet, 10: ids.win.backupSet },
    subclientId: { 6: ids.lin.subclient, 11: ids.win.subclient },
  };
  const names: Record<string, string> = { 'acme-web01': 'lin01', 'acme-fs01': 'win01' };
  return JSON.parse(JSON.stringify(w.payload), (k, v) => {
    if (typeof v === 'number' && map[k]?.[v] !== undefined) return map[k][v];
    if (k === 'clientName' && typeof v === 'string') return names[v] ?? v;
    return v;
  });
}

const F = 1_700_000_000;
async function chainIds(subclient: number) {
  const view = await t.ctx.authz.current();
  const backupSet = view.entity({ type: 7, id: subclient })?.parentId as number;
  const instance = view.entity({ type: 6, id: backupSet })?.parentId as number;
  const agent = view.entity({ type: 5, id: instance })?.parentId as number;
  return { client: view.entity({ type: 4, id: agent })?.parentId as number, backupSet, subclient };
}

beforeAll(async () => {
  const lin = await fileSystemEstate(t, admin, 'lin01', { os: 'Linux' });
  const win = await fileSystemEstate(t, admin, 'win01', { os: 'Windows' });
  const job = (subclient: number, n: number, files: unknown[]) => ({
    subclientId: subclient,
    backupLevel: n === 0 ? 'Full' : 'Incremental',
    startTime: F + n * 1000,
    endTime: F + n * 1000 + 100,
    files,
  });
  const lines = [
    job(lin, 0, [
      { path: '/var/www/index.html', size: 5000, modificationTime: F - 10 },
      { path: '/var/www/report.pdf', size: 1_000_000, modificationTime: F - 10 },
      { path: '/etc/hosts', size: 220, modificationTime: F - 10 },
      { path: '/etc/nginx/nginx.conf', size: 2412, modificationTime: F - 10 },
      { path: '/Etc/other', size: 7, modificationTime: F - 10 },
    ]),
    job(lin, 1, [{ path: '/var/www/index.html', size: 5001, modificationTime: F + 900 }]),
    job(lin, 2, [
      { path: '/var/www/index.html', size: 5382, modificationTime: F + 1900 },
      { path: '/etc/hosts', size: 221, modificationTime: F + 1900 },
    ]),
    job(win, 0, [
      { path: 'C:\\Data\\budget.xlsx', size: 48000, modificationTime: F - 10 },
      { path: 'C:\\Data\\contracts\\a.docx', size: 1200, modificationTime: F - 10 },
    ]),
    job(win, 1, [{ path: 'C:\\Data\\Budget.XLSX', size: 48902, modificationTime: F + 900 }]),
  ];
  const res = await t.inject({
    method: 'POST',
    url: `${BASE}/Catalogue/Import`,
    headers: { authtoken: admin, 'content-type': 'application/x-ndjson', accept: 'application/json' },
    payload: lines.map((l) => JSON.stringify(l)).join('\n'),
  });
  expect(res.json().errors, res.body).toEqual([]);
  ids = { lin: await chainIds(lin), win: await chainIds(win) };
});

const browse = (body: unknown, token = admin) => t.call('POST', '/DoBrowse', token, body);
const pathsOf = (res: { json(): any }) =>
  ((res.json().browseResponses?.[0]?.browseResult?.dataResultSet ?? []) as Array<{ path: string }>).map((r) => r.path);
const restoreItems = (body: any) => body.taskInfo.subTasks[0].options.restoreOptions.fileOption;

describe('DoBrowse of several paths', () => {
  it('browse answers the children of every folder sent (cvpysdk browse(path=[…])), each once', async () => {
    const res = await browse(wire('browse-multi'));
    expect(pathsOf(res)).toEqual(['/etc/nginx', '/etc/hosts', '/var/www/index.html', '/var/www/report.pdf']);
    const twice = wire('browse-multi');
    twice.paths.push({ path: '/etc/' }, { path: '/nowhere' });
    expect(pathsOf(await browse(twice))).toEqual(pathsOf(res));
  });

  it('find beneath several folders (cvpysdk find(path=[…]))', async () => {
    expect(pathsOf(await browse(wire('find-multi')))).toEqual([
      '/etc/nginx',
      '/etc/hosts',
      '/etc/nginx/nginx.conf',
      '/var/www/index.html',
      '/var/www/report.pdf',
    ]);
    const same = wire('find-multi');
    same.paths = [{ path: '/var/www/*.html' }, { path: '/etc/*.html' }];
    expect(pathsOf(await browse(same))).toEqual(['/var/www/index.html']);
    const mixed = wire('find-multi');
    mixed.paths = [{ path: '/var/www/*.html' }, { path: '/etc/*.conf' }];
    expect((await browse(mixed)).json()).toMatchObject({ errorCode: 1204, errorMessage: /different patterns/ });
  });

  it('all versions of several items, each numbered from its oldest', async () => {
    const body = wire('versions');
    body.paths.push({ path: '/etc/hosts' });
    const rows = (await browse(body)).json().browseResponses[0].browseResult.dataResultSet;
    expect(rows.map((r: any) => [r.path, r.version, r.size])).toEqual([
      ['/etc/hosts', 2, 221],
      ['/etc/hosts', 1, 220],
      ['/var/www/index.html', 3, 5382],
      ['/var/www/index.html', 2, 5001],
      ['/var/www/index.html', 1, 5000],
    ]);
  });

  it(`refuses more than ${MAX_BROWSE_PATHS} paths and a path that is not one, before any work`, async () => {
    const body = wire('browse-multi');
    body.paths = Array.from({ length: MAX_BROWSE_PATHS + 1 }, (_, i) => ({ path: `/p${i}` }));
    const res = await browse(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().errorMessage).toMatch(/at most 100 paths/);
    body.paths = Array.from({ length: 10_000 }, () => ({ path: '/x' }));
    expect((await browse(body)).statusCode).toBe(400);
    body.paths = [{ path: '/etc' }, { path: 42 }];
    expect((await browse(body)).json().errorMessage).toMatch(/paths\[1\]\.path/);
    body.paths = [{ path: '/etc' }, { path: 'relative/x' }];
    expect((await browse(body)).json().errorMessage).toMatch(/paths\[1\]\.path is not a path/);
  });
});

describe('find with file-size filters (cvpysdk file_size_gt / _lt / _et)', () => {
  it('selects files by size, as cvpysdk sends GTE, LTE and EQUALSBLAH', async () => {
    expect(pathsOf(await browse(wire('find-size-gt')))).toEqual([
      '/etc/nginx/nginx.conf',
      '/var/www/index.html',
      '/var/www/report.pdf',
    ]);
    // Between 10 and 6000 bytes: /Etc/other (7) is below.
    expect(pathsOf(await browse(wire('find-size-lt-gt')))).toEqual([
      '/etc/hosts',
      '/etc/nginx/nginx.conf',
      '/var/www/index.html',
    ]);
    expect(pathsOf(await browse(wire('find-size-et')))).toEqual(['/var/www/index.html']);
    const strict = wire('find-size-et');
    strict.queries[0].whereClause = [
      { connector: 0, criteria: { field: 'FileSize', values: ['221'], dataOperator: 'GT' } },
      { connector: 0, criteria: { field: 'FileSize', values: [5382], dataOperator: 'LT' } },
    ];
    expect(pathsOf(await browse(strict))).toEqual(['/etc/nginx/nginx.conf']);
  });

  it('odd filter values are 400 with the reason, never 5xx', async () => {
    const body = wire('find-size-et');
    const criteria = body.queries[0].whereClause[0].criteria;
    for (const [values, op, reason] of [
      [[-1], 'GTE', /whole number of bytes/],
      [['1e3'], 'GTE', /whole number of bytes/],
      [[1.5], 'GTE', /whole number of bytes/],
      [[2 ** 60], 'GTE', /whole number of bytes/],
      [[], 'GTE', /whole number of bytes/],
      [[{}], 'GTE', /whole number of bytes/],
      [[10], 'BETWEEN', /dataOperator must be one of/],
      [[10], undefined, /dataOperator must be one of/],
    ] as const) {
      Object.assign(criteria, { values, dataOperator: op });
      const res = await browse(body);
      expect(res.statusCode, JSON.stringify(values)).toBe(400);
      expect(res.json().errorMessage).toMatch(reason);
    }
    body.queries[0].whereClause = [{ criteria: { field: 'Owner', values: ['x'] } }];
    expect((await browse(body)).json().errorMessage).toMatch(/FileName or FileSize/);
    body.queries[0].whereClause = Array.from({ length: 17 }, () => ({
      criteria: { field: 'FileName', values: ['*'] },
    }));
    expect((await browse(body)).json().errorMessage).toMatch(/at most 16/);
    body.queries[0].whereClause = [{ criteria: { field: 'FileName', values: ['x'.repeat(1001)] } }];
    expect((await browse(body)).statusCode).toBe(400);
  });
});

describe('paths compare by the client: Windows without case, Linux exactly', () => {
  it('browse, find and all versions on a Windows client ignore case', async () => {
    expect(pathsOf(await browse(wire('win-browse-lower')))).toEqual(['C:\\Data\\contracts', 'C:\\Data\\Budget.XLSX']);
    const versions = wire('versions');
    versions.entity = wire('win-browse-lower').entity;
    versions.paths = [{ path: 'c:\\DATA\\BUDGET.xlsx' }];
    const rows = (await browse(versions)).json().browseResponses[0].browseResult.dataResultSet;
    expect(rows.map((r: any) => [r.path, r.version])).toEqual([
      ['C:\\Data\\Budget.XLSX', 2],
      ['C:\\Data\\budget.xlsx', 1],
    ]);
    const find = wire('find-multi');
    find.entity = wire('win-browse-lower').entity;
    find.paths = [{ path: 'c:\\data\\CONTRACTS\\*' }];
    expect(pathsOf(await browse(find))).toEqual(['C:\\Data\\contracts\\a.docx']);
  });

  it('on a Linux client, /Etc and /etc are two folders', async () => {
    const body = wire('browse-multi');
    body.paths = [{ path: '/Etc' }];
    expect(pathsOf(await browse(body))).toEqual(['/Etc/other']);
    body.paths = [{ path: '/ETC' }];
    expect(pathsOf(await browse(body))).toEqual([]);
  });

  it('a restore path in another case is in the catalogue on Windows, not on Linux', async () => {
    const win = await t.call('POST', '/CreateTask', admin, wire('restore-win-case'));
    expect(win.json().jobIds, win.body).toHaveLength(1);
    const lin = wire('restore-version');
    restoreItems(lin).sourceItem = ['/VAR/www/index.html'];
    const res = await t.call('POST', '/CreateTask', admin, lin);
    expect(res.json().errorMessage).toMatch(/not in the catalogue/);
  });
});

describe('restore of chosen versions (cvpysdk fs_options versions)', () => {
  const detailsOf = async (jobId: string) =>
    JSON.parse(
      (await t.store.db.selectFrom('jobs').select('details').where('id', '=', Number(jobId)).executeTakeFirstOrThrow())
        .details,
    );

  it('restores the version named, by the number all versions gives it', async () => {
    const res = await t.call('POST', '/CreateTask', admin, wire('restore-version'));
    expect(res.json().jobIds, res.body).toHaveLength(1);
    const details = await detailsOf(res.json().jobIds[0]);
    const jobs = await t.store.db.selectFrom('jobs').select(['id', 'start_time']).orderBy('id').execute();
    const full = jobs.find((j) => Number(j.start_time) === F)?.id;
    expect(details.versions).toEqual([{ path: '/var/www/index.html', version: 1, jobId: full }]);
    const audit = await t.store.db
      .selectFrom('audit_log')
      .select('details')
      .where('operation', '=', 'restore')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details).versions).toEqual(details.versions);
  });

  it('Windows version entries, two versions of one file', async () => {
    const res = await t.call('POST', '/CreateTask', admin, wire('restore-win-versions'));
    expect(res.json().jobIds, res.body).toHaveLength(1);
    expect((await detailsOf(res.json().jobIds[0])).versions.map((v: any) => v.version)).toEqual([1, 2]);
  });

  it('a version that does not exist is 1200 naming it; a version entry before any path, or 0, is refused', async () => {
    const res = await t.call('POST', '/CreateTask', admin, wire('restore-version-missing'));
    expect(res.json()).toMatchObject({ errorCode: 1200, errorMessage: expect.stringMatching(/no version 9 .*has 3/) });
    const body = wire('restore-version');
    restoreItems(body).sourceItem = ['|/|#15!vErSiOnS|#15!/1', '/var/www/index.html'];
    expect((await t.call('POST', '/CreateTask', admin, body)).json().errorMessage).toMatch(/before any path/);
    restoreItems(body).sourceItem = ['/var/www/index.html', '|/|#15!vErSiOnS|#15!/0'];
    expect((await t.call('POST', '/CreateTask', admin, body)).json().errorMessage).toMatch(/numbered from 1/);
    // A version in a time range that leaves the older ones out: numbers count in the range.
    restoreItems(body).sourceItem = ['/var/www/index.html', '|/|#15!vErSiOnS|#15!/3'];
    body.taskInfo.subTasks[0].options.restoreOptions.browseOption.timeRange = { fromTime: F + 500, toTime: 0 };
    expect((await t.call('POST', '/CreateTask', admin, body)).json().errorMessage).toMatch(/no version 3 .*has 2/);
  });
});

describe('POST Jobs filters (cvpysdk JobController)', () => {
  const jobs = async (body: unknown, token = admin) => {
    const res = await t.call('POST', '/Jobs', token, body);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().jobs as Array<{ jobSummary: any }>).map((j) => j.jobSummary);
  };

  it('all_jobs(client_name, job_filter, lookup_time), active_jobs, finished_jobs as sent', async () => {
    const before = (await jobs({ pagingConfig: { limit: 1000 } })).length;
    const made = await t.call('POST', '/CreateTask', admin, wire('restore-version'));
    const id = Number(made.json().jobIds[0]);
    const mine = await jobs(wire('jobs-all-client-restore'));
    expect(mine.every((j) => j.jobType === 'Restore' && j.subclient.clientId === ids.lin.client)).toBe(true);
    expect(mine[0]?.jobId).toBe(id);
    const active = await jobs(wire('jobs-active'));
    expect(active.map((j) => j.jobId)).toContain(id);
    expect(active.every((j) => j.status !== 'Completed')).toBe(true);
    expect((await jobs(wire('jobs-finished'))).map((j) => j.jobId)).not.toContain(id);
    t.clock.advance(60_000);
    expect((await jobs(wire('jobs-active'))).map((j) => j.jobId)).not.toContain(id);
    expect((await jobs(wire('jobs-finished'))).map((j) => j.jobId)).toContain(id);
    // The catalogue's backups ended long before the lookup window (hours back from now).
    const recent = await jobs({ ...wire('jobs-finished'), jobFilter: { completedJobLookupTime: 3600 } });
    expect(recent.every((j) => j.jobType === 'Restore')).toBe(true);
    const ascending = await jobs({ pagingConfig: { sortDirection: 0, sortField: 'jobId', limit: 1000 } });
    expect(ascending.map((j) => j.jobId)).toEqual([...ascending.map((j) => j.jobId)].sort((a, b) => a - b));
    expect(ascending.length).toBeGreaterThan(before);
    expect(await jobs({ jobFilter: { jobTypeList: ['AUXCOPY'] } })).toEqual([]);
    const backups = await jobs({ jobFilter: { jobTypeList: ['backup'], clientList: [{ clientId: ids.win.client }] } });
    expect(backups.map((j) => j.jobType)).toEqual(['Backup', 'Backup']);
  });

  it("a tenant's clientList naming another company's client lists nothing", async () => {
    const acme = await makeTenant(t, admin, 'acme-jobs');
    expect(await jobs({ jobFilter: { clientList: [{ clientId: ids.lin.client }] } }, acme.token)).toEqual([]);
    expect(await jobs(wire('jobs-finished'), acme.token)).toEqual([]);
  });

  it('odd filters are 400 naming the field', async () => {
    for (const [body, field] of [
      [{ category: 3 }, /category/],
      [{ category: 'ACTIVE' }, /category/],
      [{ pagingConfig: { sortDirection: 2 } }, /sortDirection/],
      [{ pagingConfig: { sortField: 'status' } }, /sortField/],
      [{ jobFilter: { completedJobLookupTime: -1 } }, /completedJobLookupTime/],
      [{ jobFilter: { clientList: [{ clientId: 'x' }] } }, /clientList\[0\]\.clientId/],
      [{ jobFilter: { clientList: Array.from({ length: MAX_JOB_CLIENTS + 1 }, () => ({ clientId: 1 })) } }, /at most/],
      [{ jobFilter: { jobTypeList: [{}] } }, /jobTypeList\[0\]/],
      [{ jobFilter: { entity: { dataSourceId: 1 } } }, /entity/],
    ] as const) {
      const res = await t.call('POST', '/Jobs', admin, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().errorMessage).toMatch(field);
    }
  });
});

describe('hostile path lists and filters', () => {
  it('never 5xx, whatever paths, version entries and size filters hold', async () => {
    const entry = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('/etc', 'C:\\', '\\**\\*', '|/|#15!vErSiOnS|#15!/1', '|\\|#15!vErSiOnS|#15!\\99999999', '/%_'),
      fc.integer(),
      fc.constant(null),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(entry, { maxLength: 5 }),
        fc.constantFrom('browse-multi', 'find-size-gt', 'versions', 'win-browse-lower'),
        fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.double(), fc.constant(2 ** 53)),
        fc.string({ maxLength: 12 }),
        async (paths, label, size, op) => {
          const body = wire(label);
          body.paths = paths.map((path) => ({ path }));
          body.queries[0].whereClause = [{ criteria: { field: 'FileSize', values: [size], dataOperator: op } }];
          const res = await browse(body);
          expect(res.statusCode, `${JSON.stringify(body)} ${res.body}`).toBeLessThan(500);
          const restore = wire('restore-version');
          restoreItems(restore).sourceItem = paths;
          const r = await t.call('POST', '/CreateTask', admin, restore);
          expect(r.statusCode, `${JSON.stringify(paths)} ${r.body}`).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  });
});
