import type { ThrottleState } from '../domain/lockout.js';
import type { Executor } from './db.js';

export async function readThrottle(db: Executor, key: string): Promise<ThrottleState | null> {
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
