import { Type } from '@sinclair/typebox';
import { parseAssociationOp } from '../domain/entity-ref.js';
import { CsError } from './errors.js';

/**
 * The operation types cvpysdk sends for lists inside an update
 * (`usersOperationType`, `categoriesPermissionOperationType`): NONE=0,
 * OVERWRITE=1, ADD (or UPDATE)=2, DELETE=3, by name in any case or by number.
 */
export type ListOp = 'NONE' | 'OVERWRITE' | 'ADD' | 'DELETE';

/** The schema piece: a short name or a number; the value is checked by `parseListOp`. */
export const ListOpSchema = () => Type.Union([Type.String({ maxLength: 20 }), Type.Integer()]);

export function parseListOp(v: string | number | undefined, field: string, fallback: ListOp): ListOp {
  if (v === undefined) return fallback;
  const s = String(v).trim().toUpperCase();
  if (s === '0' || s === 'NONE') return 'NONE';
  // UPDATE is cvpysdk's other name for ADD in member and permission lists.
  const op = parseAssociationOp(s === 'UPDATE' ? 'ADD' : s);
  if (op) return op;
  throw new CsError('INVALID_VALUE', `${field} must be NONE (0), OVERWRITE (1), ADD or UPDATE (2), or DELETE (3)`);
}

/** Applies a list operation to a set of current values; returns the new set. */
export function applyListOp<T>(op: ListOp, current: Iterable<T>, given: Iterable<T>): Set<T> {
  const next = new Set(current);
  switch (op) {
    case 'NONE':
      return next;
    case 'OVERWRITE':
      return new Set(given);
    case 'ADD':
      for (const g of given) next.add(g);
      return next;
    case 'DELETE':
      for (const g of given) next.delete(g);
      return next;
  }
}

/** Whether a list cvpysdk sends as `[]` (or XML's empty `<x/>`, read as `[{}]`) actually names something. */
export function namesSomething(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(namesSomething);
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return v !== undefined && v !== null && v !== '';
}

/** The reply of a write: cvpysdk reads `response[0].errorCode` and `errorString` (and only then trusts it). */
export const itemErrorReply =
  (root: string) =>
  (code: number, message: string): [string, Record<string, unknown>] => [
    root,
    { response: [{ errorCode: code, errorString: message }], errorCode: code, errorMessage: message },
  ];
