import { backSolve, choleskyInPlace, forwardSolve, forwardSolveManyInPlace } from "./linalg.ts";

/**
 * A Gaussian process with kernel signalVariance * similarity(x, y) (Tanimoto here), a constant
 * mean and Gaussian noise: everything a prediction needs besides the training similarities.
 */
export interface GpMember {
  meanEv: number;
  signalVariance: number;
  noiseVariance: number;
  /** (K + noise I)^-1 (y - mean). */
  alpha: Float64Array;
}

export interface GpFitOptions {
  /**
   * Noise-to-signal variance ratios tried; the one with the highest marginal likelihood wins.
   * @default [0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8]
   */
  noiseRatios?: readonly number[];
}

/**
 * Fits hyperparameters by maximum marginal likelihood (the signal variance in closed form).
 * `similarity` is the n x n training similarity matrix, row-major.
 */
export function fitGp(
  similarity: Float64Array,
  y: ArrayLike<number>,
  options: GpFitOptions = {},
): GpMember {
  const { noiseRatios = [0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8] } = options;
  const n = y.length;
  let meanEv = 0;
  for (let i = 0; i < n; i++) meanEv += y[i] as number;
  meanEv /= n;
  const centered = Float64Array.from({ length: n }, (_, i) => (y[i] as number) - meanEv);
  let best: (GpMember & { logLikelihood: number }) | undefined;
  for (const ratio of noiseRatios) {
    const l = withDiagonal(similarity, n, ratio);
    choleskyInPlace(l, n);
    const z = forwardSolve(l, n, centered);
    let quadratic = 0;
    for (let i = 0; i < n; i++) quadratic += (z[i] as number) ** 2;
    let logDet = 0;
    for (let i = 0; i < n; i++) logDet += 2 * Math.log(l[i * n + i] as number);
    // With K = s2 (T + r I), the likelihood is maximal at s2 = y^T (T + r I)^-1 y / n.
    const signalVariance = Math.max(quadratic / n, 1e-9);
    const logLikelihood = -0.5 * (n * Math.log(signalVariance) + logDet + n);
    if (best === undefined || logLikelihood > best.logLikelihood) {
      const alpha = backSolve(l, n, z).map((v) => v / signalVariance);
      best = {
        meanEv,
        signalVariance,
        noiseVariance: ratio * signalVariance,
        alpha,
        logLikelihood,
      };
    }
  }
  if (best === undefined) throw new Error("noiseRatios is empty");
  const { logLikelihood: _, ...member } = best;
  return member;
}

export interface GpPrediction {
  mean: Float64Array;
  /** Predictive variance of an observation (latent variance plus noise). */
  variance: Float64Array;
}

/** Queries solved together: bounds the n x block scratch matrix. */
const QUERY_BLOCK = 2048;

/**
 * Posterior mean and variance. `similarity` is the n x n training matrix, `cross` the m x n
 * query-to-training matrix (row-major), both with similarity(x, x) = 1. With
 * `variance: false` only the means are computed (variance 0), much faster.
 */
export function predictGp(
  member: GpMember,
  similarity: Float64Array,
  cross: Float64Array,
  m: number,
  options: { variance?: boolean } = {},
): GpPrediction {
  const n = member.alpha.length;
  const mean = new Float64Array(m);
  const variance = new Float64Array(m);
  if (options.variance === false) {
    // Means only (variance left at 0): one dot product per query, no triangular solves.
    for (let q = 0; q < m; q++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += (cross[q * n + i] as number) * (member.alpha[i] as number);
      mean[q] = member.meanEv + member.signalVariance * dot;
    }
    return { mean, variance };
  }
  const l = withDiagonal(similarity, n, member.noiseVariance / member.signalVariance);
  choleskyInPlace(l, n);
  for (let start = 0; start < m; start += QUERY_BLOCK) {
    const width = Math.min(QUERY_BLOCK, m - start);
    // Transposed block: one row per training molecule, one column per query.
    const block = new Float64Array(n * width);
    for (let q = 0; q < width; q++) {
      const row = (start + q) * n;
      let dot = 0;
      for (let i = 0; i < n; i++) {
        const k = cross[row + i] as number;
        block[i * width + q] = k;
        dot += k * (member.alpha[i] as number);
      }
      mean[start + q] = member.meanEv + member.signalVariance * dot;
    }
    forwardSolveManyInPlace(l, n, block, width);
    const explained = new Float64Array(width);
    for (let i = 0; i < n; i++) {
      for (let q = 0; q < width; q++)
        explained[q] = (explained[q] as number) + (block[i * width + q] as number) ** 2;
    }
    for (let q = 0; q < width; q++) {
      const latent = member.signalVariance * Math.max(1 - (explained[q] as number), 0);
      variance[start + q] = latent + member.noiseVariance;
    }
  }
  return { mean, variance };
}

function withDiagonal(matrix: Float64Array, n: number, add: number): Float64Array {
  const out = matrix.slice(0, n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = (out[i * n + i] as number) + add;
  return out;
}
