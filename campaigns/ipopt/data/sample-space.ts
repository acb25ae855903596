import { createRandom, shuffled } from "./random.ts";

/** A seeded random sample of the search space: the same (space, count, seed), the same list. */
export function sampleSpace(space: readonly string[], count: number, seed: number): string[] {
  return shuffled(space, createRandom(seed)).slice(0, count);
}
