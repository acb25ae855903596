import { type Fingerprints, popcount32 } from "./fingerprints.ts";

/** Tanimoto similarity of every row of a with every row of b: a.count x b.count, row-major. */
export function tanimotoMatrix(a: Fingerprints, b: Fingerprints): Float64Array {
  const perRow = a.nBits / 32;
  const out = new Float64Array(a.count * b.count);
  const aw = a.words;
  const bw = b.words;
  // Fingerprints of small molecules are sparse (a few dozen of 256 words set): AND only the
  // words set in a's row, found once per row, instead of every word of every pair.
  const nonzero = new Uint32Array(perRow);
  for (let i = 0; i < a.count; i++) {
    const ai = i * perRow;
    const ca = a.popcounts[i] ?? 0;
    let set = 0;
    for (let w = 0; w < perRow; w++) if ((aw[ai + w] as number) !== 0) nonzero[set++] = w;
    for (let j = 0; j < b.count; j++) {
      const bj = j * perRow;
      let common = 0;
      for (let k = 0; k < set; k++) {
        const w = nonzero[k] as number;
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
