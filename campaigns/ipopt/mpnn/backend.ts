import { loadRDKit } from "../chem/rdkit.ts";
import type { TrainingRecord } from "../model/index.ts";
import { GraphCache } from "./cache.ts";
import type { MpnnInferArgs, MpnnModelJson, MpnnTrainArgs } from "./types.ts";

export const ML_BACKENDS = ["gp", "mpnn"] as const;
export type MlBackendName = (typeof ML_BACKENDS)[number];

/** Names the MPNN's shell functions are registered under. */
export const MPNN_FUNCTION_NAMES = {
  train: "ipopt-train-mpnn",
  infer: "ipopt-infer-mpnn",
} as const;

/** What the campaign submits for one model update, per backend. */
export interface MlBackend {
  functions: { train: string; infer: string };
  /** Arguments of ensemble member `member`'s train task. */
  trainArgs(rows: readonly TrainingRecord[], member: number): unknown;
  /** Arguments of one infer task: a trained model and chunk `chunk` of the search space. */
  inferArgs(model: unknown, chunk: number, smiles: () => readonly string[]): unknown;
}

export interface MlBackendOptions {
  backend: MlBackendName;
  /** The GP surrogate's Node functions. */
  gpFunctions: { train: string; infer: string };
  /** MPNN epochs (--num-epochs). */
  numEpochs: number;
  /** MPNN Adam learning rate (--learning-rate). */
  learningRate: number;
  /** Campaign seed; member m trains with seed * 1000 + m. */
  seed: number;
}

/**
 * The backend's functions and task arguments. The GP takes SMILES; the MPNN takes graphs built
 * here (its GPU host has no RDKit), cached so each chunk is converted once per campaign.
 */
export async function createMlBackend(o: MlBackendOptions): Promise<MlBackend> {
  if (o.backend === "gp") {
    return {
      functions: o.gpFunctions,
      // One GP member per task; the task's 80 % subsample gives the ensemble its spread.
      trainArgs: (rows) => ({ trainingSet: [...rows], options: { members: 1 } }),
      inferArgs: (model, _chunk, smiles) => ({ model, smiles: [...smiles()] }),
    };
  }
  const graphs = new GraphCache(await loadRDKit());
  return {
    functions: MPNN_FUNCTION_NAMES,
    trainArgs: (rows, member): MpnnTrainArgs => ({
      graphs: graphs.molecules(rows.map((r) => r.smiles)),
      ip: rows.map((r) => r.ip),
      options: { epochs: o.numEpochs, learningRate: o.learningRate, seed: o.seed * 1_000 + member },
    }),
    inferArgs: (model, chunk, smiles): MpnnInferArgs => ({
      model: model as MpnnModelJson,
      graphs: graphs.chunk(chunk, smiles),
    }),
  };
}
