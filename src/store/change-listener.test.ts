import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECT, freshStore, type TestStore } from '../../test/harness.js';
import { bumpAuthzVersion } from './authz.js';
import { ChangeListener, LEASE_MS } from './change-listener.js';
import { type Change, decodeChange, encodeChange, notifyChange } from './changes.js';
import { migrate } from './migrate.js';

describe('change payloads', () => {
  it('round-trip, split long id lists under the payload limit, and refuse anything else', () => {
    expect(encodeChange({ kind: 'authz', version: 42 })).toEqual(['a:42']);
    const ids = Array.from({ length: 3000 }, (_, i) => 1_000_000 + i);
    const payloads = encodeChange({ kind: 'user', ids: [...ids, ids[0] as number] });
    expect(payloads.length).toBeGreaterThan(1);
    expect(payloads.every((p) => Buffer.byteLength(p) < 8000)).toBe(true);
    expect(payloads.flatMap((p) => (decodeChange(p) as { ids: number[] }).ids)).toEqual(ids);
    for (const change of [
      { kind: 'session', ids: [7] },
      { kind: 'key', ids: [1, 2] },
    ] as Change[]) {
      expect(decodeChange(encodeChange(change)[0] as string)).toEqual(change);
    }
    for (const bad of ['', 'a:', 'a:1,2', 'x:1', 's:1;drop', 'u:-1', 'k:1e3', `s:${'9'.repeat(16)}`]) {
      expect(decodeChange(bad), bad).toBeNull();
    }
  });
});

// PostgreSQL only: SQLite serves one process and sends no notifications.
describe.skipIf(DIALECT !== 'postgres')('the change listener (PostgreSQL)', () => {
  let db: TestStore;
  let listener: ChangeListener;
  const heard: Change[] = [];
  const states: boolean[] = [];

  beforeAll(async () => {
    db = await freshStore();
    await migrate(db.store);
    listener = new ChangeListener({
      connect: db.store.newClient as NonNullable<typeof db.store.newClient>,
      onChange: (c) => heard.push(c),
      resync: async () => {},
      onState: (up) => states.push(up),
    });
    listener.start();
  });
  afterAll(async () => {
    await listener.close();
    await db.drop();
  });

  const until = async (what: string, ok: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`not ${what} after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('hears committed changes only, in commit order, and stays live', async () => {
    await until('live', () => listener.live());
    await db.store.db.transaction().execute(async (tx) => {
      await bumpAuthzVersion(tx, 'all');
      await notifyChange(tx, { kind: 'key', ids: [5] });
    });
    await db.store.db
      .transaction()
      .execute(async (tx) => {
        await notifyChange(tx, { kind: 'session', ids: [9] });
        throw new Error('rolled back');
      })
      .catch(() => {});
    await notifyChange(db.store.db, { kind: 'user', ids: [3] });
    await until('told', () => heard.some((c) => c.kind === 'user'));
    expect(heard.map((c) => c.kind)).toEqual(['authz', 'key', 'user']);
    // Proofs keep coming: still live after more than a lease.
    await new Promise((r) => setTimeout(r, LEASE_MS + 300));
    expect(listener.live()).toBe(true);
  });

  it('stops vouching when its connection is cut, and comes back by itself', async () => {
    await until('live', () => listener.live());
    const pid = listener.backendPid;
    expect(pid).toBeTypeOf('number');
    await sql`select pg_terminate_backend(${pid})`.execute(db.store.db);
    await until('down', () => !listener.live());
    await until('live again', () => listener.live());
    expect(states).toEqual([true, false, true]);
    heard.length = 0;
    await notifyChange(db.store.db, { kind: 'key', ids: [11] });
    await until('told after reconnecting', () => heard.length === 1);
  });
});
