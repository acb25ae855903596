import { type Fingerprints, popcount32 } from "./fingerprints.ts";

/** Tanimoto similarity of every row of a with every row of b: a.count x b.count, row-major. */
export function tanimotoMatrix(a: Fingerprints, b: Fingerprints): Float64Array {
  const perRow = a.nBits / 32;
  const out = new Float64Array(a.count * b.count);
  const aw = a.words;
  const bw = b.words;
  for (let i = 0; i < a.count; i++) {
    const ai = i * perRow;
    const ca = a.popcounts[i] ?? 0;
    for (let j = 0; j < b.count; j++) {
      const bj = j * perRow;
      let common = 0;
      for (let w = 0; w < perRow; w++) {
        const x = ((aw[ai + w] as number) & (bw[bj + w] as number)) >>> 0;
        if (x !== 0) common += popcount32(x);
      }
      const union = ca + (b.popcounts[j] ?? 0) - common;
      // Two empty fingerprints (e.g. "[H][H]") are identical as far as the kernel can tell.
      out[i * b.count + j] = union === 0 ? 1 : common / union;
    }
  }
  return out;
}
