import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Hex of `bytes` random bytes (32 bytes = 256 bits by default). */
export function randomHex(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}

/** One-shot: a third of createHash's cost, and every authenticated request hashes its token. */
export function sha256Hex(input: string | Buffer): string {
  return hash('sha256', input, 'hex');
}

/** Constant-time comparison of two equal-format strings (hashes, hex digests). */
export function sameSecret(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) return false;
  return timingSafeEqual(ab, bb);
}

export function newGuid(): string {
  return crypto.randomUUID().toUpperCase();
}
