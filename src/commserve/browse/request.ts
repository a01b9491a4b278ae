import { CsError } from '../errors.js';

// Reading the loosely typed bodies cvpysdk sends (numbers as numbers or
// strings, optional everywhere): each reader names the field it refuses.

export type Obj = Record<string, unknown>;

export const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** A whole number from `min` to `max` (a digit string too); `fallback` when absent. */
export function whole(v: unknown, field: string, fallback: number, min = 0, max = 2 ** 31 - 1): number {
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CsError('BAD_REQUEST', `${field} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

export function flag(v: unknown, fallback = false): boolean {
  if (v === undefined || v === null || v === '') return fallback;
  return v === true || v === 1 || v === '1' || (typeof v === 'string' && v.toLowerCase() === 'true');
}

/** Epoch seconds up to the year 9999 (0: unbounded). */
export const MAX_EPOCH = 253_402_300_799;
