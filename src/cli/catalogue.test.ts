import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { externalDb, runCli } from '../../test/cli.js';
import { addEntities } from '../../test/estate.js';
import { ADMIN_PASSWORD } from '../../test/harness.js';
import { bootstrap } from '../store/bootstrap.js';
import { openStore, type Store } from '../store/db.js';
import { migrate } from '../store/migrate.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(): Promise<{ env: Record<string, string>; dir: string; store: Store }> {
  const ext = await externalDb();
  cleanups.push(() => ext.drop());
  const store = openStore(ext.url);
  cleanups.push(() => store.close());
  await migrate(store);
  await bootstrap(store, ADMIN_PASSWORD, new Date());
  await addEntities(store, [
    { id: 1, type: 3, companyId: 0, name: 'c1' },
    { id: 2, type: 4, companyId: 0, parentId: 1, name: 'File System' },
    { id: 3, type: 5, companyId: 0, parentId: 2, name: 'DefaultInstanceName' },
    { id: 4, type: 6, companyId: 0, parentId: 3, name: 'defaultBackupSet' },
    { id: 5, type: 7, companyId: 0, parentId: 4, name: 'default' },
  ]);
  return { env: { BULWARK_DB: ext.url, BULWARK_DATA_DIR: ext.dir }, dir: ext.dir, store };
}

const write = (dir: string, name: string, lines: unknown[]) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return file;
};

const job = (subclientId: number, n: number) => ({
  subclientId,
  backupLevel: 'Full',
  startTime: 1_700_000_000,
  endTime: 1_700_000_100,
  files: Array.from({ length: n }, (_, i) => ({ path: `/d/f${i}`, size: i, modificationTime: 1 })),
});

describe('bulwark catalogue import FILE', () => {
  it('loads the jobs in one transaction, audited as the command; a bad line loads nothing and exits 1', async () => {
    const { env, dir, store } = await setup();
    const ok = await runCli(['catalogue', 'import', write(dir, 'ok.jsonl', [job(5, 3), job(5, 2)])], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('imported 2 jobs with 5 files from 2 lines');
    const bad = await runCli(['catalogue', 'import', write(dir, 'bad.jsonl', [job(5, 1), job(99, 1), '{'])], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('line 2: unknown subclient 99');
    expect(bad.stdout).toContain('line 3: the line is not valid JSON');
    expect(bad.stdout).toContain('nothing imported: 2 of 3 lines refused');
    const jobs = await store.db.selectFrom('jobs').select('id').execute();
    expect(jobs).toHaveLength(2);
    const audit = await store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('operation', '=', 'catalogue.import')
      .execute();
    expect(audit.map((a) => [a.actor_name, a.outcome])).toEqual([
      ['bulwark catalogue import', 'success'],
      ['bulwark catalogue import', 'failure'],
    ]);
    const missing = await runCli(['catalogue', 'import', path.join(dir, 'none.jsonl')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });
});
