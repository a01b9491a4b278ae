import { PostgresAdapter, sql } from 'kysely';
import type { Executor } from './db.js';

/**
 * Changes that other processes on one PostgreSQL database must learn of
 * before their caches would notice, told by NOTIFY in the transaction that
 * makes them (PostgreSQL delivers a notification only when, and if, its
 * transaction commits, in commit order). SQLite serves one process: nothing
 * is sent there.
 */
export type Change =
  /** The permission version moved to `version` (src/store/authz.ts). */
  | { kind: 'authz'; version: number }
  /** These sessions were revoked (logout, token renewal). */
  | { kind: 'session'; ids: number[] }
  /** These users' sessions were revoked or their standing changed: drop their sessions and API keys. */
  | { kind: 'user'; ids: number[] }
  /** These API keys were changed or deleted. */
  | { kind: 'key'; ids: number[] };

const PREFIX: Record<Change['kind'], string> = { authz: 'a', session: 's', user: 'u', key: 'k' };
const KIND = new Map(Object.entries(PREFIX).map(([k, p]) => [p, k as Change['kind']]));

/**
 * The channel of this database schema: NOTIFY reaches every session of the
 * database, so processes on other schemas (tests, a second installation) must
 * not hear it. Hashed: a channel name is at most 63 bytes.
 */
export const CHANNEL_SQL = "'bulwark_' || md5(current_schema())";

/** Payloads stay well under PostgreSQL's 8000 bytes. */
const MAX_PAYLOAD = 7000;

export function encodeChange(change: Change): string[] {
  const tag = PREFIX[change.kind];
  if (change.kind === 'authz') return [`${tag}:${change.version}`];
  const out: string[] = [];
  let line = '';
  for (const id of new Set(change.ids)) {
    if (line && line.length + String(id).length + 1 > MAX_PAYLOAD) {
      out.push(`${tag}:${line}`);
      line = '';
    }
    line = line ? `${line},${id}` : String(id);
  }
  if (line) out.push(`${tag}:${line}`);
  return out;
}

/** A payload this module wrote, or null for anything else (never trusted further than its shape). */
export function decodeChange(payload: string): Change | null {
  const m = /^([a-z]):([0-9]{1,15}(?:,[0-9]{1,15})*)$/.exec(payload);
  const kind = m && KIND.get(m[1] as string);
  if (!m || !kind) return null;
  const ids = (m[2] as string).split(',').map(Number);
  if (kind === 'authz') return ids.length === 1 ? { kind, version: ids[0] as number } : null;
  return { kind, ids };
}

/**
 * Tells every process on this database of `change` when the caller's
 * transaction commits (at once when `db` is not a transaction). Nothing on SQLite.
 */
export async function notifyChange(db: Executor, change: Change): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  for (const payload of encodeChange(change)) {
    await sql`select pg_notify(${sql.raw(CHANNEL_SQL)}, ${payload})`.execute(db);
  }
}
