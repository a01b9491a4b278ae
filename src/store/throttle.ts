import { PostgresAdapter, sql } from 'kysely';
import type { ThrottleState } from '../domain/lockout.js';
import type { Executor } from './db.js';

/**
 * A throttle row read inside a transaction is the first half of a
 * read-modify-write (a failure counted): on PostgreSQL the key is locked
 * until commit first, so failures arriving together, on one node or on
 * several, are counted one after the other instead of overwriting each other
 * (a row lock would not do: the first failure has no row to lock). SQLite
 * transactions here hold the write lock from their start already.
 */
export async function readThrottle(db: Executor, key: string): Promise<ThrottleState | null> {
  if (db.isTransaction && db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`throttle:${key}`} || ':' || current_schema(), 0))`.execute(
      db,
    );
  }
  const row = await db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
  if (!row) return null;
  return {
    failures: row.failures,
    windowStartedAt: new Date(row.window_started_at),
    lockedUntil: row.locked_until ? new Date(row.locked_until) : null,
    lockCount: row.lock_count,
  };
}

export async function writeThrottle(db: Executor, key: string, s: ThrottleState): Promise<void> {
  const values = {
    failures: s.failures,
    window_started_at: s.windowStartedAt.toISOString(),
    locked_until: s.lockedUntil ? s.lockedUntil.toISOString() : null,
    lock_count: s.lockCount,
  };
  await db
    .insertInto('login_throttle')
    .values({ key, ...values })
    .onConflict((oc) => oc.column('key').doUpdateSet(values))
    .execute();
}

export async function clearThrottle(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('key', '=', key).execute();
}
