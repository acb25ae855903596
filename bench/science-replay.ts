import { createRandom, shuffled } from "../campaigns/ipopt/data/random.ts";
import {
  type EnsembleOptions,
  fitMembers,
  predictMembers,
  type SurrogateMember,
  submatrix,
} from "../campaigns/ipopt/model/index.ts";

export type Policy = "ucb" | "greedy" | "random";

export interface ReplayOptions {
  policy: Policy;
  seed: number;
  /** Random molecules evaluated before the first model. */
  starts: number;
  /** Molecules chosen per model update. */
  batch: number;
  /** Molecules evaluated in all (starts included). */
  budget: number;
  /** UCB weight of the spread. */
  beta: number;
  model: EnsembleOptions;
  /**
   * UCB's spread: "means", the spread of the member means (the seed's, and what the campaign's
   * MPNN members give), or "means+within", which adds each GP member's posterior variance.
   * @default "means+within"
   */
  spread?: "means" | "means+within";
}

export interface ReplayResult {
  /** Oracle rows in the order they were chosen. */
  chosen: number[];
  /** Top molecules found after each batch, starts included. */
  foundAfter: number[];
}

/**
 * One active-learning campaign replayed over an oracle: the "simulation" of a molecule is a
 * lookup of its precomputed IP. `similarity` is the N x N Tanimoto matrix of the oracle.
 */
export function replay(
  ip: Float64Array,
  similarity: ArrayLike<number>,
  isTop: Uint8Array,
  options: ReplayOptions,
): ReplayResult {
  const n = ip.length;
  const random = createRandom(options.seed * 7919 + 1);
  const order = shuffled(
    Array.from({ length: n }, (_, i) => i),
    random,
  );
  const chosen = order.slice(0, Math.min(options.starts, options.budget));
  const taken = new Uint8Array(n);
  for (const row of chosen) taken[row] = 1;
  const foundAfter: number[] = [];
  const count = () => chosen.reduce((sum, row) => sum + (isTop[row] ?? 0), 0);
  foundAfter.push(count());
  let round = 0;
  while (chosen.length < options.budget) {
    const want = Math.min(options.batch, options.budget - chosen.length);
    const pool = Array.from({ length: n }, (_, i) => i).filter((i) => taken[i] === 0);
    let picks: number[];
    if (options.policy === "random") {
      picks = shuffled(pool, random).slice(0, want);
    } else {
      const trainSim = submatrix(similarity, n, chosen, chosen);
      const y = Float64Array.from(chosen, (row) => ip[row] as number);
      const members = fitMembers(trainSim, y, {
        ...options.model,
        seed: options.seed * 1000 + round,
      });
      const cross = submatrix(similarity, n, pool, chosen);
      const beta = options.policy === "ucb" ? options.beta : 0;
      picks = (
        options.spread === "means"
          ? bestByMeans(members, trainSim, cross, pool.length, beta, want)
          : bestByUcb(members, trainSim, cross, pool.length, beta, want)
      ).map((q) => pool[q] as number);
    }
    for (const row of picks) {
      taken[row] = 1;
      chosen.push(row);
    }
    foundAfter.push(count());
    round++;
  }
  return { chosen, foundAfter };
}

/**
 * The `want` best queries by mean + beta * std, exactly as scoring all of them would, but
 * computing the expensive within-member variance only for queries that can still make the cut:
 * their std is at most sqrt(largest member prior variance + between-member variance).
 */
export function bestByUcb(
  members: SurrogateMember[],
  trainSim: Float64Array,
  cross: Float64Array,
  m: number,
  beta: number,
  want: number,
): number[] {
  const cheap = predictMembers(members, trainSim, cross, m, { withinMember: false });
  if (beta === 0) return topIndices(cheap.mean, want);
  const priorVariance = Math.max(...members.map((x) => x.signalVariance + x.noiseVariance));
  const bound = cheap.mean.map(
    (mean, q) => mean + beta * Math.sqrt((cheap.std[q] as number) ** 2 + priorVariance),
  );
  const order = topIndices(bound, m);
  const n = trainSim.length === 0 ? 0 : Math.round(Math.sqrt(trainSim.length));
  const scored: { q: number; ucb: number }[] = [];
  for (let start = 0; start < m; start += UCB_BLOCK) {
    const cutoff =
      scored.length >= want
        ? (scored[want - 1]?.ucb ?? Number.NEGATIVE_INFINITY)
        : Number.NEGATIVE_INFINITY;
    if ((bound[order[start] as number] as number) < cutoff) break;
    const block = order.slice(start, start + UCB_BLOCK);
    const blockCross = submatrix(
      cross,
      n,
      block,
      Array.from({ length: n }, (_, i) => i),
    );
    const p = predictMembers(members, trainSim, blockCross, block.length);
    for (const [i, q] of block.entries()) {
      scored.push({ q, ucb: (p.mean[i] as number) + beta * (p.std[i] as number) });
    }
    scored.sort((a, b) => b.ucb - a.ucb || a.q - b.q);
  }
  return scored.slice(0, want).map((s) => s.q);
}

const UCB_BLOCK = 256;

/** The `want` best by mean + beta * the spread of the member means only. */
function bestByMeans(
  members: SurrogateMember[],
  trainSim: Float64Array,
  cross: Float64Array,
  m: number,
  beta: number,
  want: number,
): number[] {
  const p = predictMembers(members, trainSim, cross, m, { withinMember: false });
  return topIndices(
    p.mean.map((mean, q) => mean + beta * (p.std[q] as number)),
    want,
  );
}

function topIndices(score: Float64Array, k: number): number[] {
  return Array.from(score.keys())
    .sort((a, b) => (score[b] as number) - (score[a] as number) || a - b)
    .slice(0, k);
}
