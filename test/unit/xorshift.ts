// A seeded random source for the fuzz tests: deterministic, so a failure reproduces.

/** xorshift32 from seed (0 becomes 1): each call answers the next 32-bit unsigned value. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
