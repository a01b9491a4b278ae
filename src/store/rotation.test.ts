import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, DIALECT, freshStore, type TestStore } from '../../test/harness.js';
import { keyCounts, openAll, passwordOf, seedSealed } from '../../test/sealed.js';
import { bootstrap } from './bootstrap.js';
import { updateCredential } from './credentials.js';
import { migrate } from './migrate.js';
import { keyStatus, rewrapMaster, rotate, rotationState } from './rotation.js';
import { SEALED_TABLES } from './sealed.js';
import { Vault, WrongMasterKeyError } from './vault.js';

const KEY = Buffer.alloc(32, 1);
const NEXT = Buffer.alloc(32, 9);

let s: TestStore;
beforeEach(async () => {
  s = await freshStore();
  await migrate(s.store);
  await bootstrap(s.store, ADMIN_PASSWORD, new Date());
});
afterEach(() => s.drop());

async function auditOps(): Promise<Array<{ operation: string; outcome: string; target_id: string }>> {
  return s.store.db
    .selectFrom('audit_log')
    .select(['operation', 'outcome', 'target_id'])
    .where('operation', 'like', 'vault.%')
    .orderBy('seq')
    .execute();
}

describe('bulwark keys rotate (the store side)', () => {
  it('moves every sealed record of every table to a new key in batches; each still opens to its password', async () => {
    const vault = new Vault(s.store, KEY);
    const refs = await seedSealed(s.store, vault, { credentials: 23, accounts: 17 });
    expect(await keyCounts(s.store.db)).toEqual({ 1: 40 });
    const batches: number[] = [];
    const r = await rotate(s.store, vault, { batch: 7, onProgress: (p) => batches.push(p.done) });
    expect(r).toMatchObject({ target: 2, resumed: false, total: 40, moved: 40, problems: [], left: 0, finished: true });
    expect(batches.at(-1)).toBe(40);
    // Batches of 7 over two tables: 4 batches for 23, 3 for 17 (the last short one ends each table).
    expect(batches.length).toBe(7);
    expect(await keyCounts(s.store.db)).toEqual({ 2: 40 });
    const opened = await openAll(s.store.db, new Vault(s.store, KEY));
    expect([...opened.keys()].sort()).toEqual([...refs].sort());
    for (const [ref, o] of opened) expect(o.plain, ref).toBe(passwordOf(ref));
    expect(await rotationState(s.store.db)).toBeNull();
    expect(await auditOps()).toEqual([
      { operation: 'vault.rotate.start', outcome: 'success', target_id: '2' },
      { operation: 'vault.rotate.end', outcome: 'success', target_id: '2' },
    ]);
    // No secret in the audit trail.
    const details = (await s.store.db.selectFrom('audit_log').select('details').execute()).map((d) => d.details);
    for (const ref of refs) expect(details.join('\n')).not.toContain(passwordOf(ref));
    // The next rotation adds key 3; --retire then deletes keys 1 and 2, which seal nothing.
    const again = await rotate(s.store, vault, { batch: 500, retire: true });
    expect(again).toMatchObject({ target: 3, moved: 40, retired: [1, 2], finished: true });
    const st = await keyStatus(s.store.db, KEY);
    expect(st.keys.map((k) => [k.id, k.records, k.current, k.unwraps])).toEqual([[3, 40, true, true]]);
  });

  it('while requests change passwords and another node reads, nothing is lost and the other node loads the new key', async () => {
    const vault = new Vault(s.store, KEY);
    const node2Store = s.reopen();
    const node2 = new Vault(node2Store, KEY);
    await node2.ready();
    const refs = await seedSealed(s.store, vault, { credentials: 60, accounts: 0 });
    const ids = refs.map((r) => Number(r.split('/')[1]));
    const latest = new Map(refs.map((r) => [r, passwordOf(r)]));
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const id = ids[(i * 7) % ids.length] as number;
        const password = `Changed-${i}-Pw`;
        await s.store.db.transaction().execute((tx) => updateCredential(tx, vault, id, { password, at: new Date() }));
        latest.set(`credentials/${id}`, password);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const r = await rotate(s.store, vault, { batch: 5, pauseMs: 2 });
    stop = true;
    await writer;
    expect(r.finished).toBe(true);
    expect(await keyCounts(s.store.db)).toEqual({ 2: 60 });
    // node2 never saw key 2 before: it loads it on first use.
    const opened = await openAll(node2Store.db, node2);
    for (const [ref, o] of opened) expect(o.plain, ref).toBe(latest.get(ref));
  });

  it('lists records under an unknown key or not their own ciphertext, moves the rest, and keeps the rotation open until they are fixed', async () => {
    const vault = new Vault(s.store, KEY);
    const refs = await seedSealed(s.store, vault, { credentials: 6, accounts: 3 });
    const [a, b] = refs as [string, string];
    const idA = Number(a.split('/')[1]);
    const idB = Number(b.split('/')[1]);
    // a names key 99, which has no row; b holds c's ciphertext (copied from another row).
    await s.store.db.updateTable('credentials').set({ key_id: 99 }).where('id', '=', idA).execute();
    const c = await s.store.db
      .selectFrom('credentials')
      .select('secret')
      .where('id', '=', idB + 1)
      .executeTakeFirstOrThrow();
    await s.store.db.updateTable('credentials').set({ secret: c.secret }).where('id', '=', idB).execute();
    const r = await rotate(s.store, vault, { batch: 4 });
    expect(r.finished).toBe(false);
    expect(r.moved).toBe(7);
    expect(r.problems.map((p) => [p.ref, p.keyId])).toEqual([
      [a, 99],
      [b, 1],
    ]);
    expect(r.problems[0]?.why).toBe('no data key 99');
    expect(r.problems[1]?.why).toMatch(/does not decrypt under data key 1/);
    expect(await rotationState(s.store.db)).toMatchObject({ target: 2 });
    expect((await auditOps()).at(-1)).toMatchObject({ operation: 'vault.rotate.end', outcome: 'failure' });
    const st = await keyStatus(s.store.db, KEY);
    expect(st.orphans).toEqual([{ keyId: 99, records: 1 }]);
    // The operator sets new passwords on both (sealed under the newest key, 2); the next run resumes (no new key) and finishes.
    for (const id of [idA, idB]) {
      await s.store.db
        .transaction()
        .execute((tx) => updateCredential(tx, vault, id, { password: 'Reset-Pw-1', at: new Date() }));
    }
    const again = await rotate(s.store, vault, { batch: 4 });
    expect(again).toMatchObject({ target: 2, resumed: true, total: 0, moved: 0, finished: true });
    expect(await keyCounts(s.store.db)).toEqual({ 2: 9 });
    expect((await auditOps()).map((o) => o.operation)).toEqual([
      'vault.rotate.start',
      'vault.rotate.end',
      'vault.rotate.resume',
      'vault.rotate.end',
    ]);
  });

  it('a new master key: every data key re-wrapped in one step; the old key is refused from then on, records untouched', async () => {
    const vault = new Vault(s.store, KEY);
    await seedSealed(s.store, vault, { credentials: 4, accounts: 2 });
    await rotate(s.store, vault, { batch: 100 });
    await seedSealed(s.store, vault, { credentials: 2, accounts: 0 }, new Date('2026-12-02T00:00:00Z'));
    const before = await s.store.db
      .selectFrom('credentials')
      .select(['id', 'key_id', 'secret'])
      .orderBy('id')
      .execute();
    expect(await rewrapMaster(s.store, KEY, NEXT, new Date())).toEqual([1, 2]);
    const after = await s.store.db.selectFrom('credentials').select(['id', 'key_id', 'secret']).orderBy('id').execute();
    expect(after).toEqual(before);
    await expect(new Vault(s.store, KEY).ready()).rejects.toBeInstanceOf(WrongMasterKeyError);
    const fresh = new Vault(s.store, NEXT);
    await fresh.ready();
    for (const [ref, o] of await openAll(s.store.db, fresh)) expect(o.plain, ref).toBe(passwordOf(ref));
    expect((await keyStatus(s.store.db, NEXT)).keys.every((k) => k.unwraps)).toBe(true);
    expect((await keyStatus(s.store.db, KEY)).masterMatches).toBe(false);
    // The old key cannot re-wrap again; nor can a key that is not the store's.
    await expect(rewrapMaster(s.store, KEY, Buffer.alloc(32, 5), new Date())).rejects.toBeInstanceOf(
      WrongMasterKeyError,
    );
    // A data key the master key does not unwrap: refused, nothing changed.
    await s.store.db
      .updateTable('vault_keys')
      .set({ wrapped: Buffer.alloc(60).toString('base64') })
      .where('id', '=', 1)
      .execute();
    await expect(rewrapMaster(s.store, NEXT, KEY, new Date())).rejects.toThrow(/data key\(s\) 1 do not unwrap/);
    await new Vault(s.store, NEXT).ready();
    expect((await auditOps()).map((o) => o.operation)).toContain('vault.master.rewrap');
  });

  it('every table with key_id and secret columns is in the list rotation walks', async () => {
    const tables =
      DIALECT === 'sqlite'
        ? await sql<{ t: string }>`select m.name as t from sqlite_master m join pragma_table_info(m.name) p
            where m.type = 'table' and p.name in ('key_id', 'secret') group by m.name having count(*) = 2`.execute(
            s.store.db,
          )
        : await sql<{ t: string }>`select table_name as t from information_schema.columns
            where column_name in ('key_id', 'secret') and table_schema = current_schema()
            group by table_name having count(*) = 2`.execute(s.store.db);
    expect(tables.rows.map((r) => r.t).sort()).toEqual(SEALED_TABLES.map((t) => t.table).sort());
  });
});
