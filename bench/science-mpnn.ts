import { spawnSync } from "node:child_process";
import { loadRDKit } from "../campaigns/ipopt/chem/rdkit.ts";
import { createRandom, shuffled } from "../campaigns/ipopt/data/random.ts";
import {
  type GraphBatch,
  graphBatch,
  type MpnnInferResult,
  type MpnnModelJson,
  type MpnnOptions,
  runMpnnLocally,
} from "../campaigns/ipopt/mpnn/index.ts";
import { combine, type ModelScores } from "../campaigns/ipopt/run/ranking.ts";

/** Whether `python` imports torch, and whether torch sees a GPU (undefined: no torch). */
export function torchDevice(python: string): "cuda" | "cpu" | undefined {
  const probe = spawnSync(python, ["-c", "import torch; print(torch.cuda.is_available())"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (probe.status !== 0) return undefined;
  return probe.stdout.trim() === "True" ? "cuda" : "cpu";
}

export interface MpnnEnsembleOptions {
  python: string;
  members: number;
  /** Per-member train options; member m adds seed m. */
  train: MpnnOptions;
}

/** Member means and their spread (the seed's UCB std), as the campaign combines them. */
export async function ensemblePredict(
  o: MpnnEnsembleOptions,
  trainGraphs: GraphBatch,
  ip: number[],
  queryGraphs: GraphBatch,
  seed: number,
): Promise<ModelScores & { trainSeconds: number; epochsRun: number[] }> {
  const scores: ModelScores[] = [];
  const epochsRun: number[] = [];
  let trainSeconds = 0;
  for (let member = 0; member < o.members; member++) {
    const model = await runMpnnLocally<MpnnModelJson>(o.python, "train", {
      graphs: trainGraphs,
      ip,
      options: { ...o.train, seed: seed * 1_000 + member },
    });
    trainSeconds += model.trainSeconds;
    epochsRun.push(Number(model.training.epochsRun));
    const p = await runMpnnLocally<MpnnInferResult>(o.python, "infer", {
      model,
      graphs: queryGraphs,
      options: { ...(o.train.device ? { device: o.train.device } : {}) },
    });
    scores.push({ mean: Float64Array.from(p.mean), std: Float64Array.from(p.std) });
  }
  return { ...combine(scores), trainSeconds, epochsRun };
}

export interface MpnnHoldoutResult {
  maeEv: number;
  /** Per-member MAEs are not kept: the ensemble mean is what the campaign ranks by. */
  withinOneStd: number;
  trainSeconds: number;
  epochsRun: number[];
}

/** The ensemble's held-out error on split `seed` (the GP holdout's split: same shuffle). */
export async function mpnnHoldout(
  smiles: readonly string[],
  ip: Float64Array,
  options: MpnnEnsembleOptions & { trainSize: number; testSize: number; seed: number },
): Promise<MpnnHoldoutResult> {
  const order = shuffled(
    Array.from({ length: ip.length }, (_, i) => i),
    createRandom(options.seed),
  );
  const train = order.slice(0, options.trainSize);
  const test = order.slice(options.trainSize, options.trainSize + options.testSize);
  const rdkit = await loadRDKit();
  const graphsOf = (rows: number[]) =>
    graphBatch(
      rdkit,
      rows.map((r) => smiles[r] as string),
    );
  const p = await ensemblePredict(
    options,
    graphsOf(train),
    train.map((r) => ip[r] as number),
    graphsOf(test),
    options.seed,
  );
  let mae = 0;
  let within = 0;
  for (const [q, row] of test.entries()) {
    const error = Math.abs((p.mean[q] as number) - (ip[row] as number));
    mae += error;
    if (error <= (p.std[q] as number)) within++;
  }
  return {
    maeEv: mae / test.length,
    withinOneStd: within / test.length,
    trainSeconds: p.trainSeconds,
    epochsRun: p.epochsRun,
  };
}

export interface MpnnReplayOptions {
  seed: number;
  starts: number;
  batch: number;
  budget: number;
  beta: number;
  ensemble: MpnnEnsembleOptions;
}

/**
 * One active-learning campaign over the oracle with the MPNN ensemble, as science-replay.ts
 * does with the GP (the same random starts for a seed): train every member on the molecules
 * chosen so far, score the rest, take the batch with the best mean + beta * spread.
 */
export async function replayMpnn(
  ip: Float64Array,
  graphs: GraphBatch,
  isTop: Uint8Array,
  o: MpnnReplayOptions,
): Promise<{ chosen: number[]; foundAfter: number[] }> {
  const n = ip.length;
  const order = shuffled(
    Array.from({ length: n }, (_, i) => i),
    createRandom(o.seed * 7919 + 1),
  );
  const chosen = order.slice(0, Math.min(o.starts, o.budget));
  const taken = new Uint8Array(n);
  for (const row of chosen) taken[row] = 1;
  const count = () => chosen.reduce((sum, row) => sum + (isTop[row] ?? 0), 0);
  const foundAfter = [count()];
  const subset = (rows: number[]): GraphBatch => ({
    ...graphs,
    graphs: rows.map((r) => graphs.graphs[r] as GraphBatch["graphs"][number]),
  });
  for (let round = 0; chosen.length < o.budget; round++) {
    const pool = Array.from({ length: n }, (_, i) => i).filter((i) => taken[i] === 0);
    const p = await ensemblePredict(
      o.ensemble,
      subset(chosen),
      chosen.map((r) => ip[r] as number),
      subset(pool),
      o.seed * 1_000 + round,
    );
    const ucb = (q: number) => (p.mean[q] as number) + o.beta * (p.std[q] as number);
    const want = Math.min(o.batch, o.budget - chosen.length);
    const picks = Array.from(pool.keys())
      .sort((a, b) => ucb(b) - ucb(a) || a - b)
      .slice(0, want)
      .map((q) => pool[q] as number);
    for (const row of picks) {
      taken[row] = 1;
      chosen.push(row);
    }
    foundAfter.push(count());
  }
  return { chosen, foundAfter };
}
