import { type Static, Type } from '@sinclair/typebox';
import { CsError } from './errors.js';

/**
 * Paging, one rule for every list that pages (AuditTrail, Entities, Client,
 * ClientGroup, Plan): `offset` and `limit` are decimal whole numbers, with
 * 0 ≤ offset ≤ MAX_OFFSET and 1 ≤ limit ≤ MAX_LIMIT; anything else (a sign,
 * a fraction, an exponent, hex, a number too large for the database to bind)
 * is a 400 BAD_REQUEST that names the parameter. An empty value is an absent one.
 */

/** The largest offset: a 32-bit signed integer, which both stores bind as one (1e20 made SQLite fail). */
export const MAX_OFFSET = 2 ** 31 - 1;
/** The largest page. */
export const MAX_LIMIT = 1000;

/**
 * The query-string schema of the paging parameters. They stay text through
 * validation so that readPaging alone decides what is a good number (Ajv's
 * integer coercion takes "1e20").
 */
export const PagingQuery = Type.Object({
  offset: Type.Optional(Type.String()),
  limit: Type.Optional(Type.String()),
});
export type PagingQuery = Static<typeof PagingQuery>;

export interface Page<L = number> {
  offset: number;
  limit: L;
}

/** Reads `offset` and `limit`: with a default limit, a page is always bounded. */
export function readPaging(q: Partial<PagingQuery>, defaultLimit: number): Page;
/** Reads `offset` and `limit`: no limit when none is given (the product's lists return everything). */
export function readPaging(q: Partial<PagingQuery>): Page<number | undefined>;
export function readPaging(q: Partial<PagingQuery>, defaultLimit?: number): Page<number | undefined> {
  return {
    offset: readWhole(q.offset, 'offset', 0, MAX_OFFSET) ?? 0,
    limit: readWhole(q.limit, 'limit', 1, MAX_LIMIT) ?? defaultLimit,
  };
}

const DIGITS = /^[0-9]{1,10}$/;

function readWhole(raw: unknown, name: string, min: number, max: number): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const text = typeof raw === 'number' ? String(raw) : raw;
  const n = typeof text === 'string' && DIGITS.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new CsError('BAD_REQUEST', `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}
