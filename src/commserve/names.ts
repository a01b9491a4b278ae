import { checkName, checkText } from '../domain/names.js';
import { CsError } from './errors.js';

/**
 * A name read from a request, in its stored form (trimmed, NFC), or 1204
 * naming the field and what is wrong with it. The rule is `src/domain/names.ts`.
 */
export function readName(raw: unknown, field: string, max?: number): string {
  const r = checkName(raw, max);
  if (!r.ok) throw new CsError('INVALID_VALUE', `${field} ${r.problem}`);
  return r.value;
}

/** A description read from a request, kept as given (absent stays absent), or 1204. */
export function readDescription<T extends string | null | undefined>(raw: T, field: string, max?: number): T {
  if (typeof raw !== 'string') return raw;
  const r = checkText(raw, max);
  if (!r.ok) throw new CsError('INVALID_VALUE', `${field} ${r.problem}`);
  return raw;
}
