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

// Tested against the key with separators dropped, so `X-Api-Key`, `api_key`
// and `apiKey` are one name.
const SECRET_KEY = /pass(word|key|wd)?$|passkey|secret|token|apikey|authorization|credential(s)?$/i;
const isSecretKey = (k: string) => SECRET_KEY.test(k.replace(/[^A-Za-z0-9]/g, ''));

/**
 * A copy of `value` with every secret-looking key's value replaced, at any
 * depth. A boolean or null under such a key is a setting (for instance
 * `allowUsersToEnablePasskey`), never a secret, so it stays readable; strings,
 * numbers and whole objects under it are hidden.
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const setting = v === null || typeof v === 'boolean';
      out[k] = isSecretKey(k) && !setting ? '[redacted]' : redactSecrets(v);
    }
    return out;
  }
  return value;
}
