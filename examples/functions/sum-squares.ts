// Sums i*i for i < n: a small CPU-bound task that checks arguments and fails clearly.
export default function sumSquares(args: { n: number }): { n: number; sum: number } {
  if (!Number.isInteger(args?.n) || args.n < 0) {
    throw new Error(`n must be a non-negative integer, got ${JSON.stringify(args?.n)}`);
  }
  let sum = 0;
  for (let i = 0; i < args.n; i++) sum += i * i;
  return { n: args.n, sum };
}
