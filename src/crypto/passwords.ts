import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id recommendation: 19 MiB, two passes, one lane.
const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * Hashing runs on libuv's worker threads. A login storm would otherwise queue
 * unbounded work there and starve file and DNS I/O, so at most
 * `maxConcurrent` hashes run at once; the rest wait their turn in order.
 */
let maxConcurrent = 2;
let running = 0;
const waiting: Array<() => void> = [];

/** BULWARK_HASH_CONCURRENCY, checked by the configuration; set once at start. */
export function setHashConcurrency(n: number): void {
  maxConcurrent = n;
}

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= maxConcurrent) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function hashSecret(plain: string): Promise<string> {
  return limited(() => hash(plain, OPTIONS));
}

/** False for a wrong secret and for a stored value that is not an argon2 hash. */
export async function verifySecret(stored: string, plain: string): Promise<boolean> {
  return limited(async () => {
    try {
      return await verify(stored, plain);
    } catch {
      return false;
    }
  });
}

let dummy: Promise<string> | null = null;
/**
 * Verifies against a throwaway hash, so a login for an unknown user costs as
 * much time as one for a known user with a wrong password.
 */
export async function burnVerify(plain: string): Promise<false> {
  dummy ??= hashSecret('bulwark-timing-equalizer');
  await verifySecret(await dummy, plain);
  return false;
}
