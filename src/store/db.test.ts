import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, precompiled, type Store } from './db.js';

// The signal lets a SQLite reader skip re-reading the authz version row: it
// must move on every commit, from this connection or another process's.
describe('SQLite change signal', () => {
  const opened: Store[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-signal-'));
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  const open = (file: string) => {
    const s = openStore(file);
    opened.push(s);
    return s;
  };

  it('stays put on reads and moves on writes, inside a transaction or not', async () => {
    const s = open(':memory:');
    await sql`create table t (id integer primary key, v int)`.execute(s.db);
    const sig = s.changeSignal as () => string;
    const before = sig();
    await s.db
      .selectFrom('t' as never)
      .selectAll()
      .execute();
    const afterRead = sig();
    expect(afterRead).toBe(before);
    await s.db
      .insertInto('t' as never)
      .values({ v: 1 } as never)
      .execute();
    const afterInsert = sig();
    await s.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('t' as never)
        .set({ v: 2 } as never)
        .execute();
    });
    const afterTx = sig();
    expect(new Set([afterRead, afterInsert, afterTx]).size).toBe(3);
  });

  it('moves when another connection to the same file commits', async () => {
    const file = path.join(dir, 'shared.db');
    const a = open(file);
    const b = open(file);
    await sql`create table t (id integer primary key, v int)`.execute(a.db);
    const seen = (b.changeSignal as () => string)();
    expect((b.changeSignal as () => string)()).toBe(seen);
    await a.db
      .insertInto('t' as never)
      .values({ v: 1 } as never)
      .execute();
    expect((b.changeSignal as () => string)()).not.toBe(seen);
  });
});

describe('precompiled queries', () => {
  it('bind new values on each call, and refuse a query that binds anything but its arguments', async () => {
    const s = openStore(':memory:');
    await sql`create table t (id integer primary key, v int)`.execute(s.db);
    await sql`insert into t (id, v) values (1, 10), (2, 20)`.execute(s.db);
    const byId = precompiled(
      (db, id: number) =>
        db
          .selectFrom('t' as never)
          .select('v' as never)
          .where('id' as never, '=', id as never),
      [1],
    );
    expect(await byId(s.db, 2)).toEqual([{ v: 20 }]);
    expect(await byId(s.db, 1)).toEqual([{ v: 10 }]);
    expect(await byId(s.db, 3)).toEqual([]);
    const extra = precompiled(
      (db, id: number) =>
        db
          .selectFrom('t' as never)
          .select('v' as never)
          .where('id' as never, '=', id as never)
          .where('v' as never, '>', 5 as never),
      [1],
    );
    await expect(extra(s.db, 1)).rejects.toThrow(/not its arguments/);
    await s.close();
  });
});
