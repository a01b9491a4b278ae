import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrappedDb, cleanupAfterEach, runCli } from '../../test/cli.js';
import { addEntities } from '../../test/estate.js';
import type { Store } from '../store/db.js';

const cleanups = cleanupAfterEach();

async function setup(): Promise<{ env: Record<string, string>; dir: string; store: Store }> {
  const { env, dir, store } = await bootstrappedDb(cleanups);
  await addEntities(store, [
    { id: 1, type: 3, companyId: 0, name: 'c1' },
    { id: 2, type: 4, companyId: 0, parentId: 1, name: 'File System' },
    { id: 3, type: 5, companyId: 0, parentId: 2, name: 'DefaultInstanceName' },
    { id: 4, type: 6, companyId: 0, parentId: 3, name: 'defaultBackupSet' },
    { id: 5, type: 7, companyId: 0, parentId: 4, name: 'default' },
  ]);
  return { env, dir, store };
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
