import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of stored service-account passwords (AES-256-GCM).
 *
 * - Each data key is 32 random bytes, stored wrapped (encrypted) by the master
 *   key with its key id as associated data, so a wrapped key copied under
 *   another id does not unwrap.
 * - Each secret is sealed under one data key with the record's identity
 *   (`credentials/17`, `entity_accounts/42/subclientUnc`) as associated data:
 *   a ciphertext moved to another row, or another column, fails to open.
 * - A key-check value (a constant sealed by the master key) is kept in the
 *   store, so a wrong master key is refused at start instead of every later
 *   decryption failing.
 *
 * Sealed text is base64 of `iv (12) | tag (16) | ciphertext`; no part of it is
 * the password or its base64.
 */

const IV = 12;
const TAG = 16;
const CHECK_TEXT = 'bulwark master key check v1';
const CHECK_AAD = 'bulwark/master-key-check';

export class VaultError extends Error {}

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(IV);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}

/** The plaintext, or null when the key, the associated data or the bytes are not the sealing ones. */
function open(key: Buffer, sealed: string, aad: string): Buffer | null {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < IV + TAG) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(raw.subarray(IV, IV + TAG));
    return Buffer.concat([d.update(raw.subarray(IV + TAG)), d.final()]);
  } catch {
    return null;
  }
}

const wrapAad = (keyId: number) => `bulwark/data-key/${keyId}`;

/** A new data key, wrapped by the master key for storage under `keyId`. */
export function newWrappedKey(master: Buffer, keyId: number): string {
  return seal(master, randomBytes(32), wrapAad(keyId));
}

/** The key-check value of a master key. */
export function keyCheck(master: Buffer): string {
  return seal(master, Buffer.from(CHECK_TEXT), CHECK_AAD);
}

/** Whether `check` was made by this master key. */
export function keyCheckMatches(master: Buffer, check: string): boolean {
  return open(master, check, CHECK_AAD)?.toString('utf8') === CHECK_TEXT;
}

/** A stored secret: which data key sealed it, and the sealed text. */
export interface Sealed {
  keyId: number;
  secret: string;
}

/**
 * The unwrapped data keys of one process. Holds no plaintext password;
 * data keys live only here, never in a log or reply.
 */
export class KeyRing {
  private readonly keys = new Map<number, Buffer>();
  constructor(private readonly master: Buffer) {}

  /** Adds a stored wrapped key; false when the master key does not unwrap it. */
  add(keyId: number, wrapped: string): boolean {
    if (this.keys.has(keyId)) return true;
    const key = open(this.master, wrapped, wrapAad(keyId));
    if (!key || key.length !== 32) return false;
    this.keys.set(keyId, key);
    return true;
  }

  has(keyId: number): boolean {
    return this.keys.has(keyId);
  }

  seal(keyId: number, identity: string, plaintext: string): Sealed {
    const key = this.keys.get(keyId);
    if (!key) throw new VaultError(`data key ${keyId} is not loaded`);
    return { keyId, secret: seal(key, Buffer.from(plaintext, 'utf8'), identity) };
  }

  /** The plaintext; VaultError when the key is unknown or the ciphertext is not this record's. */
  open(identity: string, s: Sealed): string {
    const key = this.keys.get(s.keyId);
    if (!key) throw new VaultError(`data key ${s.keyId} is unknown`);
    const plain = open(key, s.secret, identity);
    if (!plain) throw new VaultError(`the secret of ${identity} does not decrypt under key ${s.keyId}`);
    return plain.toString('utf8');
  }
}

/**
 * The data key `wrapped` holds under `keyId`, wrapped again by `next`; null
 * when `master` does not unwrap it. Re-wrapping under a new master key keeps
 * every data key (and so every sealed record) as it is.
 */
export function rewrapKey(master: Buffer, next: Buffer, keyId: number, wrapped: string): string | null {
  const key = open(master, wrapped, wrapAad(keyId));
  if (!key || key.length !== 32) return null;
  return seal(next, key, wrapAad(keyId));
}

/** Whether `master` unwraps the data key stored under `keyId`. */
export function unwraps(master: Buffer, keyId: number, wrapped: string): boolean {
  return open(master, wrapped, wrapAad(keyId))?.length === 32;
}
