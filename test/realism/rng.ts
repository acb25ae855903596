/**
 * A small seeded generator (mulberry32): the same seed gives the same sequence of draws, so a
 * failing fault run can be replayed exactly. Math.random cannot be seeded.
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

/**
 * The draws one request consumes, always all of them and in this order, whatever is switched on:
 * turning throttling on then leaves unchanged which requests get latency or a reset.
 */
export interface RequestDraws {
  latency: number;
  throttle: number;
  serverError: number;
  serverErrorKind: number;
  resetBefore: number;
  resetAfter: number;
}

export function drawForRequest(next: () => number): RequestDraws {
  return {
    latency: next(),
    throttle: next(),
    serverError: next(),
    serverErrorKind: next(),
    resetBefore: next(),
    resetAfter: next(),
  };
}
