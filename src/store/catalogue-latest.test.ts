import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshStore, type TestStore } from '../../test/harness.js';
import { ENTITY_TYPES } from '../domain/catalogue.js';
import { importCatalogue } from '../import/catalogue.js';
import type { Line } from '../import/lines.js';
import { bootstrap } from './bootstrap.js';
import { type BrowseQuery, browseAllVersions, browseItems } from './catalogue.js';
import type { Store } from './db.js';
import { createEntity } from './entities.js';
import { migrate } from './migrate.js';
import { backfill } from './migrations/0006_catalogue_latest.js';
import { COMMCELL_ID } from './schema.js';

// The browse index (catalogue_latest, migration 0006) against the full
// table: over random catalogues imported in several goes (versions of one
// path in many jobs, equal end times, deleted versions, a path in two
// subclients), the default browse and find served from the index give the
// page and the total that ranking every version gives; a time range that
// leaves a job out is answered from the full table; the migration's backfill
// builds the same table the imports kept.

const at = new Date('2026-11-23T08:00:00Z');
let ts: TestStore;
let store: Store;
let subclients: number[] = [];

async function entity(type: number, name: string, parentId: number | null): Promise<number> {
  return createEntity(store.db, { type, companyId: COMMCELL_ID, parentId, name, at: at.toISOString() });
}

beforeAll(async () => {
  ts = await freshStore();
  store = ts.store;
  await migrate(store);
  await bootstrap(store, 'Admin-Passw0rd!', at);
  const client = await entity(ENTITY_TYPES.client, 'c1', null);
  const agent = await entity(ENTITY_TYPES.agent, 'File System', client);
  const instance = await entity(ENTITY_TYPES.instance, 'DefaultInstanceName', agent);
  const backupSet = await entity(ENTITY_TYPES.backupSet, 'defaultBackupSet', instance);
  subclients = [
    await entity(ENTITY_TYPES.subclient, 'a', backupSet),
    await entity(ENTITY_TYPES.subclient, 'b', backupSet),
  ];
});
afterAll(() => ts.drop());

// Folders d1, d1/d2, d3 and files named f*: a name is a file or a folder in every job, never both.
const FILES = ['/f1', '/F1', '/d1/f1', '/d1/f2', '/d1/d2/f1', '/d1/d2/f3', '/d3/f1', '/d3/f_%'];
const FOLDERS = ['/', '/d1', '/d1/d2', '/d3', '/nope'];

const file = fc.record({
  path: fc.constantFrom(...FILES),
  size: fc.integer({ min: 0, max: 50 }),
  modificationTime: fc.integer({ min: 0, max: 100 }),
  deleted: fc.boolean(),
});
const job = fc.record({
  sub: fc.integer({ min: 0, max: 1 }),
  endTime: fc.integer({ min: 10, max: 14 }),
  files: fc.uniqueArray(file, { selector: (f) => f.path, minLength: 1, maxLength: FILES.length }),
});
const query = fc.record({
  mode: fc.constantFrom('browse' as const, 'find' as const),
  folders: fc.uniqueArray(fc.constantFrom(...FOLDERS), { minLength: 1, maxLength: 2 }),
  both: fc.boolean(),
  showDeleted: fc.boolean(),
  nameLike: fc.option(fc.constantFrom('f1', 'f_', '%1', 'f\\_\\%'), { nil: undefined }),
  sizes: fc.option(fc.constant([{ op: '>=' as const, bytes: 20 }]), { nil: undefined }),
  fromTime: fc.constantFrom(0, 11),
  toTime: fc.constantFrom(12, 1_000),
  offset: fc.integer({ min: 0, max: 6 }),
  limit: fc.integer({ min: 1, max: 8 }),
});

const lines = (texts: string[]): AsyncIterable<Line> =>
  (async function* () {
    for (const text of texts) yield { text };
  })();

describe('catalogue_latest serves the default browse as the full table does', () => {
  it('over random catalogues imported in several goes, every page and total agree', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(job, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
        fc.array(query, { minLength: 1, maxLength: 6 }),
        async (imports, queries) => {
          await store.db.deleteFrom('catalogue_latest').execute();
          await store.db.deleteFrom('catalogue_items').execute();
          await store.db.deleteFrom('jobs').execute();
          for (const jobs of imports) {
            const r = await importCatalogue(
              store,
              lines(
                jobs.map((j) =>
                  JSON.stringify({
                    subclientId: subclients[j.sub],
                    backupLevel: 'Full',
                    startTime: j.endTime - 5,
                    endTime: j.endTime,
                    files: j.files,
                  }),
                ),
              ),
              {
                actor: { userId: null, name: 'test', companyId: null },
                clock: () => at,
                auditCompanyId: COMMCELL_ID,
                subclient: () => ({ ok: true, companyId: COMMCELL_ID }),
              },
            );
            expect(r.committed).toBe(true);
          }
          for (const q of queries) {
            const bq: BrowseQuery = {
              dialect: store.dialect,
              subclientIds: q.both ? subclients : [subclients[0] as number],
              fromTime: 0,
              toTime: 1_000,
              folders: q.folders,
              mode: q.mode,
              nameLike: q.mode === 'find' ? q.nameLike : undefined,
              sizes: q.sizes,
              foldCase: false,
              showDeleted: q.showDeleted,
              offset: q.offset,
              limit: q.limit,
            };
            expect(await browseItems(store.db, bq)).toEqual(await browseAllVersions(store.db, bq));
          }
          // The migration's backfill builds the table the imports kept.
          const all = () =>
            store.db.selectFrom('catalogue_latest').selectAll().orderBy(['subclient_id', 'folder', 'name']).execute();
          const kept = await all();
          await store.db.deleteFrom('catalogue_latest').execute();
          await backfill(store.db as never);
          expect(await all()).toEqual(kept);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('case folding of a Windows client’s paths', () => {
  it('folds A-Z only, the same on both stores: É and é stay two names', async () => {
    await store.db.deleteFrom('catalogue_latest').execute();
    await store.db.deleteFrom('catalogue_items').execute();
    await store.db.deleteFrom('jobs').execute();
    const job = (endTime: number, paths: string[]) =>
      JSON.stringify({
        subclientId: subclients[0],
        backupLevel: 'Full',
        startTime: endTime - 5,
        endTime,
        files: paths.map((path) => ({ path, size: 1, modificationTime: 1 })),
      });
    const r = await importCatalogue(
      store,
      lines([
        job(10, ['C:\\Docs\\Readme.txt', 'C:\\Docs\\École.txt']),
        job(20, ['C:\\DOCS\\README.TXT', 'C:\\docs\\école.txt']),
      ]),
      {
        actor: { userId: null, name: 'test', companyId: null },
        clock: () => at,
        auditCompanyId: COMMCELL_ID,
        subclient: () => ({ ok: true, companyId: COMMCELL_ID }),
      },
    );
    expect(r.committed).toBe(true);
    const q = (over: Partial<BrowseQuery>) =>
      browseItems(store.db, {
        dialect: store.dialect,
        subclientIds: [subclients[0] as number],
        fromTime: 0,
        toTime: 1_000,
        folders: ['/C:/docs'],
        mode: 'browse',
        foldCase: true,
        showDeleted: false,
        offset: 0,
        limit: 10,
        ...over,
      });
    const names = async (over: Partial<BrowseQuery>) => (await q(over)).rows.map((x) => x.name).sort();
    expect(await names({})).toEqual(['README.TXT', 'école.txt', 'École.txt'].sort());
    expect(await names({ mode: 'find', folders: ['/'], nameLike: 'readme%' })).toEqual(['README.TXT']);
    expect(await names({ mode: 'find', folders: ['/'], nameLike: 'é%' })).toEqual(['école.txt']);
    // Exactly: only the second job's C:\docs holds a file of that spelling.
    expect(await names({ foldCase: false })).toEqual(['école.txt']);
  });
});
