import { sha256Hex } from '../crypto/secrets.js';

/** The fields a record's hash covers, in the order they are hashed. */
export interface ChainedFields {
  seq: number;
  at: string;
  actor_user_id: number | null;
  actor_name: string;
  company_id: number | null;
  operation: string;
  target_type: string;
  target_id: string;
  target_name: string;
  outcome: string;
  reason: string;
  details: string;
  source_addr: string;
  prev_hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * A record's canonical form: a JSON array in a fixed field order, so the hash
 * does not depend on key order or on how a driver returns the row.
 */
export function canonicalForm(r: ChainedFields): string {
  return JSON.stringify([
    r.seq,
    r.at,
    r.actor_user_id,
    r.actor_name,
    r.company_id,
    r.operation,
    r.target_type,
    r.target_id,
    r.target_name,
    r.outcome,
    r.reason,
    r.details,
    r.source_addr,
    r.prev_hash,
  ]);
}

export function recordHash(r: ChainedFields): string {
  return sha256Hex(canonicalForm(r));
}

const SECRET_KEY = /pass(word|key|wd)?$|passkey|secret|token|apikey|api_key|authorization|credential(s)?$/i;

/** A copy of `value` with every secret-looking key's value replaced, at any depth. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) ? '[redacted]' : redactSecrets(v);
    }
    return out;
  }
  return value;
}
