import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../crypto/secrets.js';

/**
 * File-devices API keys: `<prefix>.<secret>`, 10 + 1 + 43 characters.
 *
 * - prefix: 10 characters of [A-Za-z0-9], random; public (lists show it, the
 *   key's object id holds it).
 * - secret: base64url (no padding) of 32 bytes, R ‖ C: R is 28 random bytes
 *   (224 bits), C the first 4 bytes of SHA-256(`<prefix>.` ‖ R).
 *
 * A secret scanner matches `\b[A-Za-z0-9]{10}\.[A-Za-z0-9_-]{43}\b` and
 * recomputes C offline: a random string passes with probability 2^-32. The
 * server checks C too, before any lookup, so noise never reaches the store.
 * Only SHA-256 of the whole key is stored.
 */
export const KEY_PATTERN = /^([A-Za-z0-9]{10})\.([A-Za-z0-9_-]{43})$/;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function checksum(prefix: string, random: Buffer): Buffer {
  return Buffer.from(sha256Hex(Buffer.concat([Buffer.from(`${prefix}.`, 'utf8'), random])), 'hex').subarray(0, 4);
}

export function randomPrefix(): string {
  // 62 does not divide 256: draw from 248 (= 4 x 62) and redraw above it, so no character is likelier.
  let out = '';
  while (out.length < 10) {
    for (const b of randomBytes(16)) {
      if (b < 248 && out.length < 10) out += ALNUM[b % 62];
    }
  }
  return out;
}

export function newApiKey(prefix = randomPrefix()): { prefix: string; key: string; hash: string } {
  const random = randomBytes(28);
  const secret = Buffer.concat([random, checksum(prefix, random)]).toString('base64url');
  const key = `${prefix}.${secret}`;
  return { prefix, key, hash: keyHash(key) };
}

/** The prefix of a well-formed key whose checksum holds; null for anything else. */
export function checkKeyFormat(key: string): string | null {
  const m = KEY_PATTERN.exec(key);
  if (!m) return null;
  const [, prefix, secret] = m as unknown as [string, string, string];
  const bytes = Buffer.from(secret, 'base64url');
  // 43 characters carry 258 bits; a canonical encoding has the last 2 zero.
  if (bytes.length !== 32 || bytes.toString('base64url') !== secret) return null;
  return checksum(prefix, bytes.subarray(0, 28)).equals(bytes.subarray(28)) ? prefix : null;
}

export const keyHash = (key: string) => sha256Hex(key);

export const ACCESS_LEVELS = ['NO_ACCESS', 'READ_ONLY', 'FULL_CONTROL'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];
export const KEY_TYPES = ['UNRESTRICTED', 'CALLID_RESTRICTED'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

const rank = (a: Access) => ACCESS_LEVELS.indexOf(a);
export const minAccess = (a: Access, b: Access): Access => (rank(a) <= rank(b) ? a : b);
export const atMost = (a: Access, ceiling: Access) => rank(a) <= rank(ceiling);

/**
 * A management user's access level: SUPERVISOR reads and writes, USER reads.
 * (How a Bulwark user gets one: see `accessOfUser` in src/auth/file-devices.ts.)
 */
export type UserLevel = 'SUPERVISOR' | 'USER';
export const accessOfLevel = (l: UserLevel | null): Access =>
  l === 'SUPERVISOR' ? 'FULL_CONTROL' : l === 'USER' ? 'READ_ONLY' : 'NO_ACCESS';

/** What a key may do, or what a caller may give a key it creates or changes. */
export interface KeyPowers {
  rest: Access;
  soap: Access;
  /** null: any call. */
  callIds: ReadonlySet<string> | null;
  /** null: every virtual server / group. */
  virtualServers: ReadonlySet<number> | null;
  groups: ReadonlySet<number> | null;
  /** null: from anywhere. */
  sources: readonly string[] | null;
  /** Epoch ms, or null: never expires. */
  expiresAt: number | null;
}

export const UNBOUNDED: KeyPowers = {
  rest: 'FULL_CONTROL',
  soap: 'FULL_CONTROL',
  callIds: null,
  virtualServers: null,
  groups: null,
  sources: null,
  expiresAt: null,
};

const subset = <T>(inner: ReadonlySet<T> | null, outer: ReadonlySet<T> | null) =>
  outer === null || (inner !== null && [...inner].every((x) => outer.has(x)));

/**
 * "A key never exceeds its creator": whether `k` is within `ceiling` on
 * every axis, so a caller may create it, or change a key into it. A
 * restricted ceiling admits only a key restricted at least as narrowly: a
 * key limited to virtual server 1 cannot mint an unrestricted one, a key
 * that expires tomorrow cannot mint one that never does.
 */
export function withinCeiling(
  k: KeyPowers,
  ceiling: KeyPowers,
  cidrWithin: (inner: string, outer: string) => boolean,
): boolean {
  if (!atMost(k.rest, ceiling.rest) || !atMost(k.soap, ceiling.soap)) return false;
  if (!subset(k.callIds, ceiling.callIds)) return false;
  if (!subset(k.virtualServers, ceiling.virtualServers) || !subset(k.groups, ceiling.groups)) return false;
  if (ceiling.expiresAt !== null && (k.expiresAt === null || k.expiresAt > ceiling.expiresAt)) return false;
  if (ceiling.sources !== null) {
    const outer = ceiling.sources;
    if (k.sources === null || !k.sources.every((s) => outer.some((o) => cidrWithin(s, o)))) return false;
  }
  return true;
}

/** The narrower of two sets of powers on every axis (a key capped by its owner). */
export function capPowers(k: KeyPowers, owner: Access): KeyPowers {
  return { ...k, rest: minAccess(k.rest, owner), soap: minAccess(k.soap, owner) };
}
