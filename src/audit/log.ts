import { sql } from 'kysely';
import { wellFormed } from '../domain/names.js';
import type { Executor, Tx } from '../store/db.js';
import { type ChainedFields, recordHash, redactSecrets } from './chain.js';

export interface AuditActor {
  userId: number | null;
  name: string;
  companyId: number | null;
}

export interface AuditEntry {
  actor: AuditActor | null;
  /** The company the change concerns (defaults to the actor's). */
  companyId?: number | null;
  operation: string;
  targetType?: string;
  targetId?: string | number;
  targetName?: string;
  outcome: 'success' | 'failure';
  reason?: string;
  details?: Record<string, unknown>;
  sourceAddr?: string;
  at: Date;
}

/** Told of every record appended and how long the append took (metrics); per process. */
const appendObservers = new Set<(seconds: number) => void>();

/** Adds an observer of audit appends; returns the function that removes it. */
export function observeAuditAppends(fn: (seconds: number) => void): () => void {
  appendObservers.add(fn);
  return () => appendObservers.delete(fn);
}

/**
 * Appends one record to the chain inside the caller's transaction: no record,
 * no change. Bumping the head row first takes its write lock (a row lock on
 * PostgreSQL, the database write lock on SQLite), which orders concurrent
 * appends; call this last in a transaction so the lock is held briefly.
 */
export async function appendAudit(tx: Tx, e: AuditEntry): Promise<number> {
  const started = performance.now();
  const head = await tx
    .updateTable('audit_head')
    .set({ seq: sql`seq + 1` })
    .where('id', '=', 1)
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();
  // Every text is made well-formed here, before it is hashed, so what is
  // stored is exactly what was hashed on both stores, whatever arrived (a
  // login name typed by anyone): UTF-8 has no lone surrogates, and
  // PostgreSQL text refuses NUL. JSON.stringify already escapes both in details.
  const fields: ChainedFields = {
    seq: Number(head.seq),
    at: e.at.toISOString(),
    actor_user_id: e.actor?.userId ?? null,
    actor_name: wellFormed(e.actor?.name ?? ''),
    company_id: e.companyId !== undefined ? e.companyId : (e.actor?.companyId ?? null),
    operation: wellFormed(e.operation),
    target_type: wellFormed(e.targetType ?? ''),
    target_id: wellFormed(e.targetId === undefined ? '' : String(e.targetId)),
    target_name: wellFormed(e.targetName ?? ''),
    outcome: wellFormed(e.outcome),
    reason: wellFormed(e.reason ?? ''),
    details: wellFormed(JSON.stringify(redactSecrets(e.details ?? {}))),
    source_addr: wellFormed(e.sourceAddr ?? ''),
    prev_hash: head.hash,
  };
  const hash = recordHash(fields);
  await tx
    .insertInto('audit_log')
    .values({ ...fields, hash })
    .execute();
  await tx.updateTable('audit_head').set({ hash }).where('id', '=', 1).execute();
  if (appendObservers.size > 0) {
    const seconds = (performance.now() - started) / 1000;
    for (const fn of appendObservers) fn(seconds);
  }
  return fields.seq;
}

export interface AuditQuery {
  from?: string;
  to?: string;
  userId?: number;
  userName?: string;
  companyId?: number;
  operation?: string;
  outcome?: string;
  offset: number;
  limit: number;
}

export async function queryAudit(db: Executor, q: AuditQuery) {
  let base = db.selectFrom('audit_log');
  if (q.from) base = base.where('at', '>=', q.from);
  if (q.to) base = base.where('at', '<=', q.to);
  if (q.userId !== undefined) base = base.where('actor_user_id', '=', q.userId);
  if (q.userName) base = base.where(sql<string>`lower(actor_name)`, '=', q.userName.toLowerCase());
  if (q.companyId !== undefined) base = base.where('company_id', '=', q.companyId);
  if (q.operation) base = base.where('operation', '=', q.operation);
  if (q.outcome) base = base.where('outcome', '=', q.outcome);
  const [rows, total] = await Promise.all([
    base.selectAll().orderBy('seq', 'desc').offset(q.offset).limit(q.limit).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}
