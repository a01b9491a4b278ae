import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrappedDb, cleanupAfterEach, runCli } from '../../test/cli.js';
import { verifyAudit } from '../audit/verify.js';
import type { Store } from '../store/db.js';

const cleanups = cleanupAfterEach();

async function setup(): Promise<{ env: Record<string, string>; dir: string; store: Store }> {
  const { env, dir, store } = await bootstrappedDb(cleanups);
  await store.db
    .insertInto('companies')
    .values({ guid: 'g-acme', name: 'Acme', domain_name: 'acme', domain_key: 'acme', created_at: '2026-01-01' })
    .execute();
  return { env, dir, store };
}

const count = async (store: Store) =>
  Number(
    (
      await store.db
        .selectFrom('entities')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const write = (dir: string, name: string, lines: unknown[]) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return file;
};

describe('bulwark import FILE', () => {
  it('streams a file in, reports progress every 10 000 lines and a summary; audited as the command', async () => {
    const { env, dir, store } = await setup();
    const lines: unknown[] = [{ type: 'clientGroup', name: 'all' }];
    for (let c = 0; c < 3000; c++) {
      const client = { type: 'client', name: `c${c}` };
      const agent = { type: 'agent', name: 'File System', parent: client };
      lines.push({ ...client, clientGroups: ['all'] }, agent, { type: 'instance', name: 'default', parent: agent });
      lines.push({ type: 'plan', name: `p${c}`, company: 'acme' }, '');
    }
    const file = write(dir, 'estate.jsonl', lines);
    const r = await runCli(['import', file], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`imported 12001 entities from ${lines.length} lines; 0 refused`);
    expect(r.stderr).toMatch(/read 10000 lines: \d+ entities, 0 refused/);
    expect(r.stderr).toMatch(/read 15001 lines: 12001 entities, 0 refused/);
    expect(await count(store)).toBe(12001);
    const plans = await store.db.selectFrom('entities').select('company_id').where('type', '=', 158).execute();
    expect(new Set(plans.map((p) => p.company_id)).size).toBe(1);
    expect(plans[0]?.company_id).not.toBe(0);
    const audit = await store.db.selectFrom('audit_log').selectAll().where('operation', '=', 'entity.import').execute();
    expect(audit.map((a) => [a.actor_name, a.actor_user_id, a.outcome])).toEqual([
      ['bulwark import', null, 'success'],
      ['bulwark import', null, 'success'],
    ]);
    expect(JSON.parse(audit[0]?.details ?? '{}')).toMatchObject({ source: file, created: 9001 });
    expect((await verifyAudit(store.db)).ok).toBe(true);
  });

  it('one bad line: nothing imported, the line listed, exit 1; --partial imports the rest', async () => {
    const { env, dir, store } = await setup();
    const file = write(dir, 'bad.jsonl', [
      { type: 'client', name: 'c1' },
      { type: 'agent', name: 'a', parent: { type: 'client', name: 'c1' } },
      { type: 'agent', name: 'b', parent: { type: 'client', name: 'nope' } },
      { type: 'plan', name: 'p', company: 'elsewhere' },
    ]);
    const r = await runCli(['import', file], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('line 3: unknown parent client "nope"');
    expect(r.stdout).toContain('line 4: unknown company "elsewhere"');
    expect(r.stdout).toContain('nothing imported: 2 of 4 lines refused');
    expect(await count(store)).toBe(0);

    const p = await runCli(['import', '--partial', file], env);
    expect(p.code).toBe(1);
    expect(p.stdout).toContain('imported 2 entities from 4 lines; 2 refused');
    expect(await count(store)).toBe(2);
    const audit = await store.db
      .selectFrom('audit_log')
      .select(['actor_name', 'outcome'])
      .where('operation', '=', 'entity.import')
      .orderBy('seq')
      .execute();
    expect(audit).toEqual([
      { actor_name: 'bulwark import', outcome: 'failure' },
      { actor_name: 'bulwark import --partial', outcome: 'success' },
    ]);
  });

  it('a missing file is exit 2 with a clear message', async () => {
    const { env, dir } = await setup();
    const r = await runCli(['import', path.join(dir, 'nope.jsonl')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bulwark: cannot read .*nope\.jsonl: no such file \(ENOENT\)\n$/);
  });
});
