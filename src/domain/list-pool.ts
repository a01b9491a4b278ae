/**
 * Short lists of int32 items (a node's holders, a client's client groups, a
 * user's groups) kept side by side in one typed array.
 *
 * Why: a permission check follows a chain of such lists. As JS arrays behind
 * Maps each one costs a hash probe, an array header and its elements, three
 * cache lines far apart on a heap of hundreds of MiB; here it costs one line,
 * and a list of a single item costs none, because it sits inline in its owner's
 * slots.
 *
 * A list is referenced from a slot group of its owner's typed array:
 *   slots[at]             the number of items (0: empty);
 *   slots[at + 1 … width] the item itself when there is exactly one;
 *   slots[at + 1]         the offset of the items in `data` when there are several.
 * Each item is `width` ints. A count below zero is the owner's own marker (no
 * list in the pool): `write` replaces it, `compact` skips it. Rewriting a list appends it and leaves its old items as
 * garbage; the owner calls `compact` (it alone knows where lists are
 * referenced) when `wasteful()` says half the pool is garbage.
 */
export class ListPool {
  data = new Int32Array(1024);
  private used = 0;
  private garbage = 0;

  /** Stores `items` (count × width ints) as the list referenced at slots[at], replacing what was there. */
  write(slots: Int32Array, at: number, width: number, items: readonly number[]): void {
    const old = slots[at] as number;
    if (old > 1) this.garbage += old * width;
    const count = items.length / width;
    slots[at] = count;
    if (count === 1) {
      for (let i = 0; i < width; i++) slots[at + 1 + i] = items[i] as number;
    } else if (count > 1) {
      slots[at + 1] = this.append(items);
    }
  }

  /** The array that holds the list referenced at slots[at]: `slots` itself (one item, inline) or the pool's. */
  arrayOf(slots: Int32Array, at: number): Int32Array {
    return (slots[at] as number) > 1 ? this.data : slots;
  }

  /** Where the list referenced at slots[at] starts in `arrayOf(slots, at)`. */
  startOf(slots: Int32Array, at: number): number {
    return (slots[at] as number) > 1 ? (slots[at + 1] as number) : at + 1;
  }

  /** Whether enough is garbage that compacting pays. */
  wasteful(): boolean {
    return this.garbage > 4096 && this.garbage * 2 > this.used;
  }

  /**
   * Copies every live list into a fresh array. `visit` must call `move` once
   * for every slot group that may reference a list.
   */
  compact(visit: (move: (slots: Int32Array, at: number, width: number) => void) => void): void {
    const old = this.data;
    this.data = new Int32Array(Math.max(1024, this.used - this.garbage));
    this.used = 0;
    this.garbage = 0;
    visit((slots, at, width) => {
      const count = slots[at] as number;
      if (count <= 1) return;
      const from = slots[at + 1] as number;
      slots[at + 1] = this.append(old.subarray(from, from + count * width));
    });
  }

  /** Ints in use, garbage included (for tests). */
  get size(): number {
    return this.used;
  }

  private append(items: ArrayLike<number>): number {
    const at = this.used;
    if (at + items.length > this.data.length) {
      let n = this.data.length;
      while (n < at + items.length) n *= 2;
      const data = new Int32Array(n);
      data.set(this.data.subarray(0, at));
      this.data = data;
    }
    this.data.set(items, at);
    this.used = at + items.length;
    return at;
  }
}
