import { describe, expect, it } from 'vitest';
import { CsError } from './errors.js';
import { MAX_LIMIT, MAX_OFFSET, readPaging } from './paging.js';

function refusal(f: () => unknown): CsError {
  try {
    f();
  } catch (e) {
    if (e instanceof CsError) return e;
    throw e;
  }
  throw new Error('not refused');
}

describe('readPaging', () => {
  it('reads whole numbers in range, and defaults what is absent or empty', () => {
    expect(readPaging({}, 100)).toEqual({ offset: 0, limit: 100 });
    expect(readPaging({})).toEqual({ offset: 0, limit: undefined });
    expect(readPaging({ offset: '', limit: '' }, 100)).toEqual({ offset: 0, limit: 100 });
    expect(readPaging({ offset: '5', limit: '3' })).toEqual({ offset: 5, limit: 3 });
    expect(readPaging({ offset: '007', limit: '0010' })).toEqual({ offset: 7, limit: 10 });
    expect(readPaging({ offset: String(MAX_OFFSET), limit: String(MAX_LIMIT) })).toEqual({
      offset: 2147483647,
      limit: 1000,
    });
    expect(readPaging({ offset: '0', limit: '1' })).toEqual({ offset: 0, limit: 1 });
  });

  it('refuses anything else with BAD_REQUEST naming the parameter and its range', () => {
    const offsets = [
      '-1',
      '1e20',
      '1e3',
      '1.5',
      '0x10',
      '+1',
      ' 1',
      '1 ',
      'abc',
      '2147483648',
      '99999999999',
      'Infinity',
      'NaN',
    ];
    for (const offset of offsets) {
      const e = refusal(() => readPaging({ offset }, 100));
      expect(e.kind, offset).toBe('BAD_REQUEST');
      expect(e.http).toBe(400);
      expect(e.message).toBe('offset must be a whole number from 0 to 2147483647');
    }
    for (const limit of ['0', '-1', '1001', '1e20', '100000', '1.0', 'all']) {
      const e = refusal(() => readPaging({ limit }));
      expect(e.kind, limit).toBe('BAD_REQUEST');
      expect(e.message).toBe('limit must be a whole number from 1 to 1000');
    }
  });
});
