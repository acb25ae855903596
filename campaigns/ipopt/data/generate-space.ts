import { canonicalSmiles } from "../chem/canonical.ts";
import type { RDKit } from "../chem/rdkit.ts";
import { createRandom } from "./random.ts";
import { type SamplerOptions, sampleMolecule, toMolblock } from "./random-molecule.ts";

export interface GenerateSpaceOptions extends SamplerOptions {
  /** Molecules to produce. @default 100000 */
  count?: number;
  /** @default 20261129 */
  seed?: number;
  /** Give up after this many draws in a row produce nothing new. @default 100000 */
  maxMisses?: number;
}

/**
 * Seeded search space: random valence- and strain-checked graphs, sanitized by RDKit and
 * deduplicated by canonical SMILES, in the order drawn. Same seed and options, same list.
 */
export function generateSpace(rdkit: RDKit, options: GenerateSpaceOptions = {}): string[] {
  const { count = 100_000, seed = 20261129, maxMisses = 100_000, ...sampler } = options;
  const random = createRandom(seed);
  const seen = new Set<string>();
  const out: string[] = [];
  let misses = 0;
  while (out.length < count && misses < maxMisses) {
    const graph = sampleMolecule(random, sampler);
    const smiles = graph && canonicalSmiles(rdkit, toMolblock(graph));
    if (smiles === undefined || seen.has(smiles)) {
      misses++;
      continue;
    }
    misses = 0;
    seen.add(smiles);
    out.push(smiles);
  }
  return out;
}
