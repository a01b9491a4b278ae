import { sql } from 'kysely';
import { MasterKeyError } from '../crypto/master-key.js';
import { KeyRing, keyCheck, keyCheckMatches, newWrappedKey, type Sealed } from '../crypto/vault.js';
import type { Executor, Store, Tx } from './db.js';

/** The meta row holding the master key's check value. */
const CHECK_KEY = 'vault.key_check';

/** A configuration problem (exit code 2), as any other bad master key. */
export class WrongMasterKeyError extends MasterKeyError {}

/**
 * The store's side of the vault: the key check, the data keys, and which key
 * seals new secrets (the newest, read in the writing transaction, so a key
 * added by `bulwark keys rotate` on any node is used from the next write on).
 */
export class Vault {
  private opened: Promise<void> | null = null;
  private keys: KeyRing | null;
  /** `master` null: no key was configured (a test app that stores no secret); using the vault then fails. */
  constructor(
    private readonly store: Store,
    private readonly masterKey: Buffer | null,
  ) {
    this.keys = masterKey === null ? null : new KeyRing(masterKey);
  }

  private ring(): KeyRing {
    if (this.keys === null) throw new Error('no master key was given to this app');
    return this.keys;
  }

  master(): Buffer {
    if (this.masterKey === null) throw new Error('no master key was given to this app');
    return this.masterKey;
  }

  /**
   * Checks the master key against the store (writing the check and a first
   * data key on a new store); throws WrongMasterKeyError when it is not the
   * key this store was set up with.
   */
  ready(db: Executor = this.store.db): Promise<void> {
    this.opened ??= this.openOnce(db).catch((e) => {
      this.opened = null;
      throw e;
    });
    return this.opened;
  }

  private async openOnce(db: Executor): Promise<void> {
    const master = this.master();
    // Inside a caller's transaction, work there: a second transaction would wait on it (one SQLite connection).
    const inTx = (work: (tx: Tx) => Promise<void>) =>
      db.isTransaction ? work(db as Tx) : db.transaction().execute(work);
    await inTx(async (tx) => {
      const row = await tx.selectFrom('meta').select('value').where('key', '=', CHECK_KEY).executeTakeFirst();
      if (row) {
        if (!keyCheckMatches(master, row.value)) {
          throw new WrongMasterKeyError(
            'the master key (BULWARK_MASTER_KEY, BULWARK_MASTER_KEY_COMMAND or master.key) is not the one this store was set up with: refusing to start',
          );
        }
      } else {
        await tx
          .insertInto('meta')
          .values({ key: CHECK_KEY, value: keyCheck(master) })
          .execute();
      }
      const any = await tx.selectFrom('vault_keys').select('id').limit(1).executeTakeFirst();
      if (!any) await addKey(tx, master, new Date());
    });
    await this.load(db);
  }

  /** Loads every stored key this master key unwraps; returns the ids it cannot. */
  async load(db: Executor): Promise<number[]> {
    const rows = await db.selectFrom('vault_keys').select(['id', 'wrapped']).execute();
    const ring = this.ring();
    return rows.filter((r) => !ring.add(Number(r.id), r.wrapped)).map((r) => Number(r.id));
  }

  /** The key new secrets are sealed with, as of this transaction. */
  async activeKey(db: Executor): Promise<number> {
    await this.ready(db);
    const row = await db
      .selectFrom('vault_keys')
      .select(sql<number | null>`max(id)`.as('id'))
      .executeTakeFirstOrThrow();
    if (row.id === null) {
      // Opened inside a transaction that rolled back: set the store up again, here.
      this.opened = null;
      return this.activeKey(db);
    }
    const id = Number(row.id);
    if (!this.ring().has(id)) await this.load(db);
    return id;
  }

  /** A sealer bound to the active key of this transaction (one key read for a batch). */
  async sealer(db: Executor): Promise<(identity: string, plaintext: string) => Sealed> {
    const keyId = await this.activeKey(db);
    const ring = this.ring();
    return (identity, plaintext) => ring.seal(keyId, identity, plaintext);
  }

  /** Opens a stored secret, loading a key another node added if need be. */
  async open(db: Executor, identity: string, s: Sealed): Promise<string> {
    await this.ready(db);
    if (!this.ring().has(s.keyId)) await this.load(db);
    return this.ring().open(identity, s);
  }

  /** Whether the ring holds `keyId` (after `load`). */
  knows(keyId: number): boolean {
    return this.ring().has(keyId);
  }
}

/** Adds a new data key (the next id); it seals every secret written after this commits. */
export async function addKey(tx: Tx, master: Buffer, now: Date): Promise<number> {
  const row = await tx.selectFrom('vault_keys').select(sql<number | null>`max(id)`.as('id')).executeTakeFirst();
  const id = Number(row?.id ?? 0) + 1;
  await tx
    .insertInto('vault_keys')
    .values({ id, wrapped: newWrappedKey(master, id), created_at: now.toISOString() })
    .execute();
  return id;
}
