import { loadRDKit } from "../chem/rdkit.ts";
import { createRandom, shuffled } from "../data/random.ts";
import type { TrainingRecord } from "../model/index.ts";
import { GraphCache } from "./cache.ts";
import type { MpnnInferArgs, MpnnModelJson, MpnnTrainArgs } from "./types.ts";

/** "auto": the MPNN where the ML endpoint has a GPU, else the GP (campaign.ts resolves it). */
export const ML_BACKENDS = ["auto", "gp", "mpnn"] as const;
export type MlBackendChoice = (typeof ML_BACKENDS)[number];
export type MlBackendName = Exclude<MlBackendChoice, "auto">;

/** Names the MPNN's shell functions are registered under. */
export const MPNN_FUNCTION_NAMES = {
  train: "ipopt-train-mpnn",
  infer: "ipopt-infer-mpnn",
} as const;

/** What the campaign submits for one model update, per backend. */
export interface MlBackend {
  functions: { train: string; infer: string };
  /** Arguments of ensemble member `member`'s train task in model update `round` (default 0). */
  trainArgs(rows: readonly TrainingRecord[], member: number, round?: number): unknown;
  /** A member's trained model, kept when the next update starts from it (fine-tuning). */
  trained(member: number, model: unknown): void;
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
  /** Campaign seed; MPNN member m trains with seed * 1000 + m. */
  seed: number;
  /** Ensemble members (--model-count); a lone GP member sees every row. @default 8 */
  modelCount?: number;
  /** Share of the rows each member trains on. @default 0.8 for the GP, 1 for the MPNN */
  subsample?: number | undefined;
  /** MPNN starting models (--mpnn-model-files); member m starts from model m mod count. */
  mpnnModels?: readonly MpnnModelJson[];
  /**
   * MPNN: every update re-initialises each member (the seed's 2023 code), keeping only the
   * starting models' architecture; false: each member fine-tunes its previous weights.
   * @default true
   */
  retrainFromScratch?: boolean;
}

/**
 * The backend's functions and task arguments. The GP takes SMILES; the MPNN takes graphs built
 * here (its GPU host has no RDKit), cached so each chunk is converted once per campaign.
 */
export async function createMlBackend(o: MlBackendOptions): Promise<MlBackend> {
  if (o.backend === "gp") {
    const subsample = o.modelCount === 1 ? 1 : (o.subsample ?? 0.8);
    return {
      functions: o.gpFunctions,
      // A GP is deterministic: members on the same rows would agree. Each task fits one member
      // on its own seeded subsample, which gives the ensemble its spread.
      trainArgs: (rows, member, round = 0) => ({
        trainingSet: memberSubset(rows, subsample, o.seed * 1_000_003 + round * 1_009 + member),
        options: { members: 1 },
      }),
      trained: () => {},
      inferArgs: (model, _chunk, smiles) => ({ model, smiles: [...smiles()] }),
    };
  }
  const graphs = new GraphCache(await loadRDKit());
  const starts = o.mpnnModels ?? [];
  const fromScratch = o.retrainFromScratch ?? true;
  const previous = new Map<number, MpnnModelJson>();
  return {
    functions: MPNN_FUNCTION_NAMES,
    // As the seed: every member sees all rows; its seed varies its weights and validation split.
    trainArgs: (rows, member): MpnnTrainArgs => {
      const start =
        (fromScratch ? undefined : previous.get(member)) ?? starts[member % starts.length];
      return {
        graphs: graphs.molecules(rows.map((r) => r.smiles)),
        ip: rows.map((r) => r.ip),
        options: {
          epochs: o.numEpochs,
          learningRate: o.learningRate,
          seed: o.seed * 1_000 + member,
          subsample: o.subsample ?? 1,
          fromScratch: fromScratch && start !== undefined,
        },
        // From scratch only the architecture is read: the weights need not travel.
        ...(start ? { initModel: fromScratch ? { ...start, weights: {} } : start } : {}),
      };
    },
    trained: (member, model) => {
      if (!fromScratch) previous.set(member, model as MpnnModelJson);
    },
    inferArgs: (model, chunk, smiles): MpnnInferArgs => ({
      model: model as MpnnModelJson,
      graphs: graphs.chunk(chunk, smiles),
    }),
  };
}

/** A seeded subsample of `share` of the rows (all of them at share 1). */
function memberSubset(
  rows: readonly TrainingRecord[],
  share: number,
  seed: number,
): TrainingRecord[] {
  if (share >= 1) return [...rows];
  const size = Math.max(2, Math.round(rows.length * share));
  return shuffled(rows, createRandom(seed)).slice(0, size);
}

/**
 * The backend --ml-backend stands for: an explicit gp or mpnn as given; auto the MPNN when the
 * ML endpoint has a GPU (`gpus`: the most any of its agents reports, undefined when none says),
 * else the GP, the CPU default.
 */
export function chooseMlBackend(choice: MlBackendChoice, gpus: number | undefined): MlBackendName {
  if (choice !== "auto") return choice;
  return gpus !== undefined && gpus > 0 ? "mpnn" : "gp";
}
