import type { Executor } from '../store/db.js';
import { GENESIS_HASH, recordHash } from './chain.js';

export interface VerifyProblem {
  seq: number;
  problem: string;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  headSeq: number;
  problems: VerifyProblem[];
}

const BATCH = 5000;
const MAX_PROBLEMS = 100;

/**
 * Walks the whole chain in sequence order: every sequence number present once
 * and in order (catches deletions and inserted rows), each record linked to its
 * predecessor's hash (catches reordering), each hash recomputed from the
 * record's canonical form (catches edits), and the last record matching the
 * head row (catches a truncated tail).
 */
export async function verifyAudit(db: Executor, onProgress?: (checked: number) => void): Promise<VerifyResult> {
  const head = await db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirst();
  const problems: VerifyProblem[] = [];
  const report = (seq: number, problem: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ seq, problem });
  };
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(BATCH)
      .execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) {
        report(seq, `expected record ${expectedSeq} next, found ${seq}: records are missing`);
      }
      if (row.prev_hash !== prevHash) {
        report(seq, 'does not link to the record before it (prev_hash differs): deleted, inserted or reordered');
      }
      if (recordHash({ ...row, seq }) !== row.hash) {
        report(seq, 'content does not match its hash: the record was edited');
      }
      prevHash = row.hash;
      expectedSeq = seq + 1;
      after = seq;
      checked++;
    }
    onProgress?.(checked);
  }
  if (!head) {
    report(0, 'the audit head row is missing');
  } else {
    const headSeq = Number(head.seq);
    if (headSeq !== expectedSeq - 1) {
      report(
        headSeq,
        `the head says ${headSeq} records, the chain has ${expectedSeq - 1}: records at the end are missing`,
      );
    } else if (head.hash !== prevHash) {
      report(headSeq, 'the last record does not match the head hash');
    }
  }
  return { ok: problems.length === 0, checked, headSeq: head ? Number(head.seq) : 0, problems };
}
