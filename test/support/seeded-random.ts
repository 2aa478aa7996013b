/**
 * A deterministic pseudo-random sequence in [0, 1) (a linear congruential generator), so the
 * policy's tests feed the same calls every run; one copy for all of them.
 */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}
