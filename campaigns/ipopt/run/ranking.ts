import { createRandom, shuffled } from "../data/random.ts";

/** One model's predictions over the whole search space, in its order. */
export interface ModelScores {
  mean: Float64Array;
  std: Float64Array;
}

/**
 * The ensemble's mean and spread from per-model predictions: spread = within-model variance
 * plus the variance of the model means (as model/ensemble.ts combines its members). MPNN
 * members report no within-model spread (std 0), so theirs is the seed's: the population std of
 * the member means (numpy's y_pred.std(axis=1)). GP members add their posterior variance: the
 * GP's variant, since one GP has a predictive spread of its own.
 */
export function combine(models: readonly ModelScores[]): ModelScores {
  const n = models[0]?.mean.length ?? 0;
  const mean = new Float64Array(n);
  const std = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // A model whose chunk failed has NaN there: average over the models that scored i.
    let k = 0;
    let sum = 0;
    let within = 0;
    for (const m of models) {
      const mu = m.mean[i] ?? Number.NaN;
      if (!Number.isFinite(mu)) continue;
      k++;
      sum += mu;
      within += (m.std[i] ?? 0) ** 2;
    }
    const mu = k > 0 ? sum / k : Number.NEGATIVE_INFINITY;
    let between = 0;
    for (const m of models) {
      const v = m.mean[i] ?? Number.NaN;
      if (Number.isFinite(v)) between += (v - mu) ** 2;
    }
    mean[i] = mu;
    std[i] = k > 0 ? Math.sqrt(within / k + between / k) : 0;
  }
  return { mean, std };
}

export type Policy = "ucb" | "greedy" | "random";

/**
 * Indices of the search space, best first, leaving out those already searched: UCB
 * (mean + beta * std), greedy (mean) or a seeded shuffle.
 */
export function rank(
  scores: ModelScores,
  options: { policy: Policy; beta: number; seed: number; exclude: (i: number) => boolean },
): number[] {
  const candidates: number[] = [];
  for (let i = 0; i < scores.mean.length; i++) if (!options.exclude(i)) candidates.push(i);
  if (options.policy === "random") return shuffled(candidates, createRandom(options.seed));
  const beta = options.policy === "ucb" ? options.beta : 0;
  const value = (i: number) => (scores.mean[i] ?? 0) + beta * (scores.std[i] ?? 0);
  return candidates.sort((a, b) => value(b) - value(a));
}
