import { appendAudit } from '../audit/log.js';
import { KeyRing, keyCheck, keyCheckMatches, rewrapKey, type Sealed, unwraps } from '../crypto/vault.js';
import type { Executor, Store } from './db.js';
import { SEALED_TABLES, type SealedRecord, sealedCounts } from './sealed.js';
import { addKey, type Vault, WrongMasterKeyError } from './vault.js';

// `bulwark keys rotate`: a new data key, then every sealed record re-encrypted
// under it in batches, each batch its own short transaction, while servers
// keep serving. Servers seal new secrets with the newest key already (read in
// each writing transaction) and load a key they have not seen on first use, so
// nothing needs telling. A record is re-encrypted only if it still holds what
// was read (compare and set), so a password a request changes meanwhile wins.
// The rotation's target is kept in `meta` until every record is under it: a
// run killed midway is resumed by the next run, which moves only what is left.

const STATE_KEY = 'vault.rotation';
const CHECK_KEY = 'vault.key_check';
const ACTOR = (what: string) => ({ userId: null, name: `bulwark keys ${what}`, companyId: null });
/** Passes over the tables before giving up on records a request keeps resealing under an old key. */
const MAX_PASSES = 5;

export interface RotationState {
  target: number;
  startedAt: string;
}

export async function rotationState(db: Executor): Promise<RotationState | null> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', STATE_KEY).executeTakeFirst();
  return row ? (JSON.parse(row.value) as RotationState) : null;
}

/** A record rotation could not open, and why; it stays as it is and is listed. */
export interface RotationProblem {
  ref: string;
  label: string;
  keyId: number;
  why: string;
}

export interface RotationProgress {
  done: number;
  total: number;
  moved: number;
  /** Records moved per second so far. */
  rate: number;
}

export interface RotateOptions {
  /** Records per transaction. */
  batch: number;
  /** Rest between batches, to leave the store to the servers. */
  pauseMs?: number;
  /** Delete the data keys that seal nothing once every record is under the new key. */
  retire?: boolean;
  now?: () => Date;
  onStart?: (s: { target: number; resumed: boolean; total: number }) => void;
  onProgress?: (p: RotationProgress) => void;
}

export interface RotationReport {
  target: number;
  resumed: boolean;
  /** Records not under the target when this run began. */
  total: number;
  moved: number;
  problems: RotationProblem[];
  /** Records still not under the target (changed under an old key by a request in every pass); normally 0. */
  left: number;
  retired: number[];
  finished: boolean;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a rotation (a new data key) or finds the one a killed run left; audited either way. */
async function begin(store: Store, master: Buffer, now: Date): Promise<{ state: RotationState; resumed: boolean }> {
  return store.db.transaction().execute(async (tx) => {
    const was = await rotationState(tx);
    if (was) {
      await appendAudit(tx, {
        actor: ACTOR('rotate'),
        operation: 'vault.rotate.resume',
        targetType: 'vault_key',
        targetId: was.target,
        outcome: 'success',
        details: { startedAt: was.startedAt },
        at: now,
      });
      return { state: was, resumed: true };
    }
    const target = await addKey(tx, master, now);
    const state = { target, startedAt: now.toISOString() };
    await tx
      .insertInto('meta')
      .values({ key: STATE_KEY, value: JSON.stringify(state) })
      .execute();
    await appendAudit(tx, {
      actor: ACTOR('rotate'),
      operation: 'vault.rotate.start',
      targetType: 'vault_key',
      targetId: target,
      outcome: 'success',
      at: now,
    });
    return { state, resumed: false };
  });
}

/** The ring of every data key the master key unwraps, reloaded when a record names a key it lacks. */
class Keys {
  private readonly ring: KeyRing;
  /** Key ids found to have no row, or a row the master key does not unwrap, with why. */
  private readonly bad = new Map<number, string>();
  constructor(master: Buffer) {
    this.ring = new KeyRing(master);
  }
  async load(db: Executor): Promise<void> {
    const rows = await db.selectFrom('vault_keys').select(['id', 'wrapped']).execute();
    for (const r of rows) {
      const id = Number(r.id);
      if (this.ring.add(id, r.wrapped)) this.bad.delete(id);
      else this.bad.set(id, `data key ${id} does not unwrap under this master key`);
    }
  }
  /** The plaintext, or why not (never the plaintext in the reason). */
  async open(db: Executor, r: SealedRecord): Promise<{ plain: string } | { why: string }> {
    const id = r.sealed.keyId;
    if (!this.ring.has(id) && !this.bad.has(id)) {
      await this.load(db);
      if (!this.ring.has(id) && !this.bad.has(id)) this.bad.set(id, `no data key ${id}`);
    }
    const bad = this.bad.get(id);
    if (bad !== undefined) return { why: bad };
    try {
      return { plain: this.ring.open(r.identity, r.sealed) };
    } catch {
      return { why: `does not decrypt under data key ${id} (not this record's ciphertext, or damaged)` };
    }
  }
  seal(keyId: number, identity: string, plain: string): Sealed {
    return this.ring.seal(keyId, identity, plain);
  }
}

async function countNotUnder(db: Executor, target: number): Promise<number> {
  let n = 0;
  for (const [k, c] of await sealedCounts(db)) if (k !== target) n += c;
  return n;
}

/**
 * Moves every sealed record to a new data key (or the one a killed run was
 * moving to). Records it cannot open are listed in the report, left as they
 * are, and keep the rotation open, so the next run retries them.
 */
export async function rotate(store: Store, vault: Vault, o: RotateOptions): Promise<RotationReport> {
  const now = o.now ?? (() => new Date());
  await vault.ready();
  const master = vault.master();
  const started = performance.now();
  const { state, resumed } = await begin(store, master, now());
  const target = state.target;
  const keys = new Keys(master);
  await keys.load(store.db);
  const total = await countNotUnder(store.db, target);
  o.onStart?.({ target, resumed, total });
  const problems = new Map<string, RotationProblem>();
  let moved = 0;
  const report = () =>
    o.onProgress?.({
      done: Math.min(total, moved + problems.size),
      total,
      moved,
      rate: moved / Math.max((performance.now() - started) / 1000, 1e-3),
    });
  let left = total;
  for (let pass = 0; pass < MAX_PASSES && left > problems.size; pass++) {
    for (const table of SEALED_TABLES) {
      let after: unknown = null;
      for (;;) {
        const n = await store.db.transaction().execute(async (tx) => {
          const { records, next } = await table.notUnder(tx, target, after, o.batch);
          after = next;
          const pairs: Array<{ record: SealedRecord; secret: string }> = [];
          for (const r of records) {
            if (problems.has(r.ref)) continue;
            const opened = await keys.open(tx, r);
            if ('why' in opened) {
              problems.set(r.ref, { ref: r.ref, label: r.label, keyId: r.sealed.keyId, why: opened.why });
              continue;
            }
            pairs.push({ record: r, secret: keys.seal(target, r.identity, opened.plain).secret });
          }
          // One statement for the batch (compare and set per row, as reseal does).
          moved += await table.resealMany(tx, target, pairs);
          return records.length;
        });
        report();
        if (n < o.batch) break;
        if (o.pauseMs) await sleep(o.pauseMs);
      }
    }
    left = await countNotUnder(store.db, target);
  }
  left = Math.max(0, left - problems.size);
  const finished = problems.size === 0 && left === 0;
  const retired: number[] = [];
  await store.db.transaction().execute(async (tx) => {
    if (finished) {
      await tx.deleteFrom('meta').where('key', '=', STATE_KEY).execute();
      if (o.retire) {
        // Read again here: only keys that seal nothing as of this transaction go.
        const counts = await sealedCounts(tx);
        const ids = (await tx.selectFrom('vault_keys').select('id').execute())
          .map((r) => Number(r.id))
          .filter((id) => id < target && !counts.get(id));
        if (ids.length) await tx.deleteFrom('vault_keys').where('id', 'in', ids).execute();
        retired.push(...ids);
      }
    }
    await appendAudit(tx, {
      actor: ACTOR('rotate'),
      operation: 'vault.rotate.end',
      targetType: 'vault_key',
      targetId: target,
      outcome: finished ? 'success' : 'failure',
      details: {
        moved,
        unreadable: [...problems.keys()].slice(0, 100),
        unreadableCount: problems.size,
        left,
        retired,
      },
      at: now(),
    });
  });
  return {
    target,
    resumed,
    total,
    moved,
    problems: [...problems.values()],
    left,
    retired,
    finished,
    seconds: (performance.now() - started) / 1000,
  };
}

export class RewrapRefusedError extends Error {}

/**
 * Wraps every data key again under `next` and stores `next`'s key check, in
 * one transaction: from its commit on, only `next` opens this store (a server
 * started with the old key is refused; running ones keep the data keys they
 * hold). Refuses, changing nothing, when `master` is not the store's key or
 * does not unwrap every data key.
 */
export async function rewrapMaster(store: Store, master: Buffer, next: Buffer, now: Date): Promise<number[]> {
  return store.db.transaction().execute(async (tx) => {
    const check = await tx.selectFrom('meta').select('value').where('key', '=', CHECK_KEY).executeTakeFirst();
    if (!check || !keyCheckMatches(master, check.value)) {
      throw new WrongMasterKeyError('the current master key is not the one this store was set up with');
    }
    const rows = await tx.selectFrom('vault_keys').select(['id', 'wrapped']).orderBy('id').execute();
    const unreadable = rows.filter((r) => !unwraps(master, Number(r.id), r.wrapped)).map((r) => Number(r.id));
    if (unreadable.length) {
      throw new RewrapRefusedError(
        `data key(s) ${unreadable.join(', ')} do not unwrap under the current master key: nothing changed (move their records with \`bulwark keys rotate\` and reset the passwords it lists, then retire them)`,
      );
    }
    for (const r of rows) {
      const id = Number(r.id);
      const wrapped = rewrapKey(master, next, id, r.wrapped) as string;
      await tx.updateTable('vault_keys').set({ wrapped }).where('id', '=', id).execute();
    }
    await tx
      .updateTable('meta')
      .set({ value: keyCheck(next) })
      .where('key', '=', CHECK_KEY)
      .execute();
    const ids = rows.map((r) => Number(r.id));
    await appendAudit(tx, {
      actor: ACTOR('rotate'),
      operation: 'vault.master.rewrap',
      targetType: 'vault',
      outcome: 'success',
      details: { keys: ids },
      at: now,
    });
    return ids;
  });
}

export interface KeyStatus {
  id: number;
  createdAt: string;
  records: number;
  current: boolean;
  /** null: not checked (no master key given). */
  unwraps: boolean | null;
}

/** Data keys with their record counts, and key ids records name that have no data key. */
export async function keyStatus(
  db: Executor,
  master: Buffer | null,
): Promise<{
  keys: KeyStatus[];
  orphans: Array<{ keyId: number; records: number }>;
  rotation: RotationState | null;
  masterMatches: boolean | null;
}> {
  const rows = await db.selectFrom('vault_keys').select(['id', 'wrapped', 'created_at']).orderBy('id').execute();
  const counts = await sealedCounts(db);
  const current = rows.length ? Number(rows[rows.length - 1]?.id) : null;
  const keys = rows.map((r) => ({
    id: Number(r.id),
    createdAt: r.created_at,
    records: counts.get(Number(r.id)) ?? 0,
    current: Number(r.id) === current,
    unwraps: master === null ? null : unwraps(master, Number(r.id), r.wrapped),
  }));
  const known = new Set(keys.map((k) => k.id));
  const orphans = [...counts]
    .filter(([k]) => !known.has(k))
    .map(([keyId, records]) => ({ keyId, records }))
    .sort((a, b) => a.keyId - b.keyId);
  const check = await db.selectFrom('meta').select('value').where('key', '=', CHECK_KEY).executeTakeFirst();
  const masterMatches = master === null || !check ? null : keyCheckMatches(master, check.value);
  return { keys, orphans, rotation: await rotationState(db), masterMatches };
}
