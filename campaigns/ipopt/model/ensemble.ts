import { TaskFailedError } from "#core/errors.ts";
import { createRandom } from "../data/random.ts";
import type { FingerprintOptions, Fingerprints } from "./fingerprints.ts";
import { fitGp, type GpFitOptions, type GpMember, predictGp } from "./gp.ts";
import { tanimotoMatrix } from "./tanimoto.ts";

/** An ensemble of Tanimoto-kernel GPs, each fit on a random subsample of the training set. */
export interface SurrogateModel {
  kind: "tanimoto-gp-ensemble";
  version: 1;
  fingerprint: Required<FingerprintOptions>;
  /** Training molecules, in the order of the fingerprint rows. */
  smiles: string[];
  /** Training fingerprints (rows of nBits / 32 words) and their bit counts. */
  words: Uint32Array;
  popcounts: Uint16Array;
  members: SurrogateMember[];
}

export interface SurrogateMember extends GpMember {
  /** Training rows this member was fit on, ascending. */
  rows: Uint32Array;
}

export interface EnsembleOptions extends GpFitOptions {
  /** Ensemble members. @default 8 */
  members?: number;
  /** Fraction of the training set each member sees, drawn without replacement. @default 0.8 */
  subsample?: number;
  /** Seed of the subsamples; member m uses seed + m. @default 0 */
  seed?: number;
}

export interface Prediction {
  mean: Float64Array;
  /** Spread for UCB: mean within-member variance plus the variance of the member means. */
  std: Float64Array;
}

/**
 * Fits the members from the n x n training similarity matrix (row-major). A single member
 * sees the whole set.
 */
export function fitMembers(
  similarity: Float64Array,
  ip: ArrayLike<number>,
  options: EnsembleOptions = {},
): SurrogateMember[] {
  const { members = 8, subsample = 0.8, seed = 0, ...fit } = options;
  const n = ip.length;
  if (n < 2) throw new TaskFailedError("training needs at least 2 molecules");
  const size = Math.max(2, Math.round(n * subsample));
  const fitted: SurrogateMember[] = [];
  for (let m = 0; m < members; m++) {
    const rows = members === 1 ? identity(n) : sampleRows(n, size, seed + m);
    const y = Float64Array.from(rows, (row) => ip[row] as number);
    fitted.push({ rows, ...fitGp(submatrix(similarity, n, rows, rows), y, fit) });
  }
  return fitted;
}

/**
 * Ensemble mean and spread from the training similarity (n x n) and query similarity (m x n).
 * With `withinMember: false` the spread is only the disagreement between member means (no
 * triangular solves): a cheap lower bound used to prune UCB candidates.
 */
export function predictMembers(
  members: readonly SurrogateMember[],
  similarity: Float64Array,
  cross: Float64Array,
  m: number,
  options: { withinMember?: boolean } = {},
): Prediction {
  const n = Math.round(Math.sqrt(similarity.length));
  const all = identity(m);
  const sum = new Float64Array(m);
  const sumSquares = new Float64Array(m);
  const sumVariance = new Float64Array(m);
  for (const member of members) {
    const memberCross = submatrix(cross, n, all, member.rows);
    const memberSimilarity =
      options.withinMember === false
        ? new Float64Array(0)
        : submatrix(similarity, n, member.rows, member.rows);
    const p = predictGp(member, memberSimilarity, memberCross, m, {
      variance: options.withinMember !== false,
    });
    for (let q = 0; q < m; q++) {
      const mean = p.mean[q] as number;
      sum[q] = (sum[q] as number) + mean;
      sumSquares[q] = (sumSquares[q] as number) + mean * mean;
      sumVariance[q] = (sumVariance[q] as number) + (p.variance[q] as number);
    }
  }
  const k = members.length;
  const mean = sum.map((s) => s / k);
  const std = mean.map((mu, q) => {
    const between = Math.max((sumSquares[q] as number) / k - mu * mu, 0);
    return Math.sqrt((sumVariance[q] as number) / k + between);
  });
  return { mean, std };
}

export function trainOnFingerprints(
  smiles: readonly string[],
  fps: Fingerprints,
  ip: ArrayLike<number>,
  options: EnsembleOptions = {},
): SurrogateModel {
  return {
    kind: "tanimoto-gp-ensemble",
    version: 1,
    fingerprint: { radius: fps.radius, nBits: fps.nBits, counts: fps.counts },
    smiles: [...smiles],
    words: fps.words,
    popcounts: fps.popcounts,
    members: fitMembers(tanimotoMatrix(fps, fps), ip, options),
  };
}

/** Mean and spread of the ensemble at the query fingerprints. */
export function predictFingerprints(model: SurrogateModel, query: Fingerprints): Prediction {
  const train = trainingFingerprints(model);
  return predictMembers(
    model.members,
    tanimotoMatrix(train, train),
    tanimotoMatrix(query, train),
    query.count,
  );
}

export function trainingFingerprints(model: SurrogateModel): Fingerprints {
  return {
    count: model.smiles.length,
    nBits: model.fingerprint.nBits,
    radius: model.fingerprint.radius,
    counts: model.fingerprint.counts,
    words: model.words,
    popcounts: model.popcounts,
  };
}

/** rows x cols block of a row-major matrix with `stride` columns. */
export function submatrix(
  matrix: ArrayLike<number>,
  stride: number,
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  for (let i = 0; i < rows.length; i++) {
    const base = (rows[i] as number) * stride;
    const target = i * cols.length;
    for (let j = 0; j < cols.length; j++)
      out[target + j] = matrix[base + (cols[j] as number)] as number;
  }
  return out;
}

function identity(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

function sampleRows(n: number, size: number, seed: number): Uint32Array {
  const random = createRandom(seed);
  const rows = identity(n);
  for (let i = 0; i < size; i++) {
    const j = i + random.int(n - i);
    const swap = rows[i] as number;
    rows[i] = rows[j] as number;
    rows[j] = swap;
  }
  return rows.slice(0, size).sort();
}
