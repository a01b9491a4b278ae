/**
 * A deterministic generator, for tests and benches: rand(n) is an integer in
 * [0, n). mulberry32, read from its high bits: `seed % n` of a power-of-two LCG
 * repeats its low bits (rand(2) alternates), and `seed * 1103515245` loses bits
 * past 2^53.
 */
export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}
