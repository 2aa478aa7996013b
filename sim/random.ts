/**
 * mulberry32: a tiny, fast seeded generator with good enough spread for what the test upstreams
 * and the simulations draw (fake activations, injected faults, request mixes, arrivals). The same
 * seed always gives the same stream, so a run can be replayed exactly. Not for anything secret.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
