import { describe, expect, it } from 'vitest';
import { ListPool } from './list-pool.js';

/** The items of the list referenced at slots[at], read as a check reads them. */
function read(pool: ListPool, slots: Int32Array, at: number, width: number): number[] {
  const count = slots[at] as number;
  if (count <= 0) return [];
  const from = pool.startOf(slots, at);
  return [...pool.arrayOf(slots, at).subarray(from, from + count * width)];
}

describe('ListPool', () => {
  it('keeps a single item inline in its slots and several in the pool', () => {
    const pool = new ListPool();
    const slots = new Int32Array(8);
    pool.write(slots, 0, 2, [7, 3]);
    expect([...slots.subarray(0, 3)]).toEqual([1, 7, 3]);
    expect(pool.size).toBe(0);
    pool.write(slots, 4, 1, [5, 6, 9]);
    expect(slots[4]).toBe(3);
    expect(read(pool, slots, 4, 1)).toEqual([5, 6, 9]);
    expect(pool.size).toBe(3);
    pool.write(slots, 4, 1, []);
    expect(read(pool, slots, 4, 1)).toEqual([]);
    expect(slots[4]).toBe(0);
  });

  it("replaces an owner's marker and grows past its first array", () => {
    const pool = new ListPool();
    const slots = new Int32Array(4);
    slots[0] = -1;
    const many = Array.from({ length: 3000 }, (_, i) => i);
    pool.write(slots, 0, 2, many);
    expect(slots[0]).toBe(1500);
    expect(read(pool, slots, 0, 2)).toEqual(many);
  });

  it('counts rewritten lists as garbage, and compacting keeps every live list and only them', () => {
    const pool = new ListPool();
    const slots = new Int32Array(3 * 100);
    const expected: number[][] = [];
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 100; k++) {
        const items = Array.from({ length: 2 * (1 + ((k + round) % 4)) }, (_, i) => round * 1000 + k * 10 + i);
        pool.write(slots, 3 * k, 2, items);
        expected[k] = items;
      }
    }
    slots[3 * 7] = -1; // a marker: no list of the pool's
    expected[7] = [];
    expect(pool.wasteful()).toBe(true);
    const before = pool.size;
    pool.compact((move) => {
      for (let k = 0; k < 100; k++) move(slots, 3 * k, 2);
    });
    expect(pool.wasteful()).toBe(false);
    expect(pool.size).toBeLessThan(before / 10);
    expect(slots[3 * 7]).toBe(-1);
    for (let k = 0; k < 100; k++) expect(read(pool, slots, 3 * k, 2), `list ${k}`).toEqual(expected[k]);
  });
});
