import { Type } from '@sinclair/typebox';

// CommServe clients send numbers and booleans as strings too ("1", "true").
// These schema pieces accept exactly those forms, and the helpers below turn
// them into values.

export const Int = (opts: { minimum?: number; maximum?: number } = {}) =>
  Type.Union([Type.Integer(opts), Type.String({ pattern: '^-?[0-9]{1,15}$' })]);

export const Bool = () =>
  Type.Union([
    Type.Boolean(),
    Type.Literal(0),
    Type.Literal(1),
    Type.String({ pattern: '^(true|false|True|False|TRUE|FALSE|0|1)$' }),
  ]);

export function toInt(v: number | string): number {
  return typeof v === 'number' ? v : Number.parseInt(v, 10);
}

export function toBool(v: boolean | number | string): boolean {
  return v === true || v === 1 || (typeof v === 'string' && (v === '1' || v.toLowerCase() === 'true'));
}
