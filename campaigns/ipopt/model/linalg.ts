import { TaskFailedError } from "#core/errors.ts";

/**
 * In-place Cholesky of a symmetric positive-definite n x n row-major matrix: the lower
 * triangle becomes L with A = L L^T (the upper triangle is left as it was).
 */
export function choleskyInPlace(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let diagonal = a[rowJ + j] as number;
    for (let k = 0; k < j; k++) diagonal -= (a[rowJ + k] as number) ** 2;
    if (!(diagonal > 0)) throw new TaskFailedError("kernel matrix is not positive definite");
    const ljj = Math.sqrt(diagonal);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let sum = a[rowI + j] as number;
      for (let k = 0; k < j; k++) sum -= (a[rowI + k] as number) * (a[rowJ + k] as number);
      a[rowI + j] = sum / ljj;
    }
  }
}

/** Solves L x = b (L lower triangular from choleskyInPlace); returns x. */
export function forwardSolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= (l[row + k] as number) * (x[k] as number);
    x[i] = sum / (l[row + i] as number);
  }
  return x;
}

/** Solves L^T x = b; returns x. */
export function backSolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i] as number;
    for (let k = i + 1; k < n; k++) sum -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = sum / (l[i * n + i] as number);
  }
  return x;
}

/**
 * Solves L X = B in place for many right-hand sides: B is n x m row-major (one column per
 * query). Row by row, so the inner loop runs over contiguous memory.
 */
export function forwardSolveManyInPlace(
  l: Float64Array,
  n: number,
  b: Float64Array,
  m: number,
): void {
  for (let i = 0; i < n; i++) {
    const rowI = i * m;
    for (let k = 0; k < i; k++) {
      const lik = l[i * n + k] as number;
      if (lik === 0) continue;
      const rowK = k * m;
      for (let q = 0; q < m; q++)
        b[rowI + q] = (b[rowI + q] as number) - lik * (b[rowK + q] as number);
    }
    const inverse = 1 / (l[i * n + i] as number);
    for (let q = 0; q < m; q++) b[rowI + q] = (b[rowI + q] as number) * inverse;
  }
}
