import { describe, expect, it } from "vitest";
import { bestByUcb, replay } from "../../bench/science-replay.ts";
import { createRandom } from "../../campaigns/ipopt/data/random.ts";
import { fitMembers, predictMembers, submatrix } from "../../campaigns/ipopt/model/index.ts";

/** 300 molecules in 30 clusters: similarity 0.8 inside a cluster, 0.1 across; IP by cluster. */
function synthetic() {
  const n = 300;
  const cluster = (i: number) => i % 30;
  const random = createRandom(1);
  const ip = Float64Array.from(
    { length: n },
    (_, i) => 10 + cluster(i) * 0.1 + random.normal() * 0.05,
  );
  const similarity = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++)
      similarity[i * n + j] = i === j ? 1 : cluster(i) === cluster(j) ? 0.8 : 0.1;
  }
  const sorted = [...ip].sort((a, b) => b - a);
  const threshold = sorted[14] ?? 0;
  const isTop = Uint8Array.from(ip, (v) => (v >= threshold ? 1 : 0));
  return { ip, similarity, isTop };
}

describe("science replay", () => {
  it("spends exactly the budget, never picks a molecule twice, and beats random", () => {
    const { ip, similarity, isTop } = synthetic();
    const options = { seed: 0, starts: 20, batch: 10, budget: 60, beta: 1, model: { members: 2 } };
    const found: Record<string, number> = {};
    for (const policy of ["ucb", "greedy", "random"] as const) {
      const r = replay(ip, similarity, isTop, { ...options, policy });
      expect(r.chosen).toHaveLength(60);
      expect(new Set(r.chosen).size).toBe(60);
      expect(r.foundAfter).toHaveLength(1 + 4);
      found[policy] = r.foundAfter.at(-1) ?? 0;
    }
    expect(found.greedy ?? 0).toBeGreaterThan(found.random ?? 0);
    expect(found.ucb ?? 0).toBeGreaterThan(found.random ?? 0);
    // The same seed replays the same campaign.
    expect(replay(ip, similarity, isTop, { ...options, policy: "ucb" }).chosen).toEqual(
      replay(ip, similarity, isTop, { ...options, policy: "ucb" }).chosen,
    );
  });
});

describe("UCB candidate pruning", () => {
  it("picks exactly what scoring every molecule would", () => {
    const random = createRandom(3);
    const n = 400;
    // Random low-rank similarities: positive definite, 1 on the diagonal.
    const features = Array.from({ length: n }, () =>
      Array.from({ length: 6 }, () => random.next()),
    );
    const norm = features.map((f) => Math.hypot(...f));
    const similarity = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const dot = (features[i] ?? []).reduce(
          (s, x, k) => s + x * ((features[j] ?? [])[k] ?? 0),
          0,
        );
        similarity[i * n + j] = i === j ? 1 : (0.9 * dot) / ((norm[i] ?? 1) * (norm[j] ?? 1));
      }
    }
    const train = Array.from({ length: 60 }, (_, i) => i);
    const pool = Array.from({ length: n - 60 }, (_, i) => i + 60);
    const y = train.map((i) => (features[i]?.[0] ?? 0) * 3 + random.normal() * 0.1);
    const trainSim = submatrix(similarity, n, train, train);
    const members = fitMembers(trainSim, y, { members: 4 });
    const cross = submatrix(similarity, n, pool, train);
    for (const beta of [0, 1, 3]) {
      const full = predictMembers(members, trainSim, cross, pool.length);
      const expected = Array.from(full.mean.keys())
        .map((q) => ({ q, ucb: (full.mean[q] ?? 0) + beta * (full.std[q] ?? 0) }))
        .sort((a, b) => b.ucb - a.ucb || a.q - b.q)
        .slice(0, 10)
        .map((x) => x.q);
      expect(bestByUcb(members, trainSim, cross, pool.length, beta, 10)).toEqual(expected);
    }
  });
});
