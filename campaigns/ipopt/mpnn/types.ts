import type { GraphBatch } from "./graph.ts";

/**
 * Options of the MPNN's train (and, for device/threads/inferBatchSize, infer) function. The
 * defaults are the seed's network and schedule (moldesign's nfp model; README "GPU endpoints (MPNN)").
 */
export interface MpnnOptions {
  /** Passes over the training set; early stopping may end sooner. @default 512 */
  epochs?: number;
  /** Adam's initial learning rate. @default 1e-3 */
  learningRate?: number;
  /** Final over initial learning rate: it decays geometrically over the epochs (1: constant). @default 1e-3 */
  learningRateDecay?: number;
  /** Molecules per gradient step (the seed's). @default 32 */
  batchSize?: number;
  /** Width of atom and bond states; 64 does not fit the 1 MiB a shell function may print. @default 32 */
  hidden?: number;
  /** Message-passing rounds, each an edge, a node and a global update. @default 8 */
  steps?: number;
  /** Width of each attention head of the graph-level state. @default 4 */
  globalUnits?: number;
  /** Attention heads of the graph-level state. @default 1 */
  globalHeads?: number;
  /** Hidden layers of the readout MLP. @default [512, 256, 128] */
  outputLayers?: number[];
  /** How atoms are reduced to the molecule. @default "sum" */
  readout?: "sum" | "mean";
  /** Readout MLP per atom, then reduced (the seed's); false: reduced, then the MLP. @default true */
  atomwise?: boolean;
  /** Seeds the weights, the subsample, the validation split and the batches. @default 0 */
  seed?: number;
  /** Share held out for early stopping (none under 10 molecules). @default 0.1 */
  validationFraction?: number;
  /** Share of the molecules this member trains on; 1 as the seed's members. @default 1 */
  subsample?: number;
  /** With initModel: keep only its architecture, start from fresh weights. @default false */
  fromScratch?: boolean;
  /** Epochs without a better validation MAE before stopping. @default epochs / 8 */
  patience?: number;
  /** torch CPU threads. @default torch's own choice */
  threads?: number;
  /** "auto": the GPU the agent pinned when torch sees one, else the CPU. @default "auto" */
  device?: "auto" | "cpu" | "cuda";
  /** Molecules per forward pass in infer. @default 1024 */
  inferBatchSize?: number;
}

export interface MpnnTrainArgs {
  graphs: GraphBatch;
  /** Measured IPs (eV), one per graph. */
  ip: number[];
  options?: MpnnOptions;
  /** Start from this model: fine-tuned, or only its architecture with options.fromScratch. */
  initModel?: MpnnModelJson;
}

/** The trained network as JSON; opaque to the campaign, which passes it back to infer. */
export interface MpnnModelJson {
  kind: "mpnn";
  version: 2;
  config: {
    atomFields: { name: string; size: number }[];
    bondTypes: string[];
    hidden: number;
    steps: number;
    globalUnits: number;
    globalHeads: number;
    outputLayers: number[];
    readout: "sum" | "mean";
    atomwise: boolean;
  };
  /** state_dict: name -> shape and base64 of little-endian float16 (or float32) values. */
  weights: Record<string, { shape: number[]; dtype?: "float16" | "float32"; data: string }>;
  /** "cuda:0 (<GPU name>)" or "cpu". */
  device: string;
  trainSeconds: number;
  training: Record<string, unknown>;
}

export interface MpnnInferArgs {
  model: MpnnModelJson;
  graphs: GraphBatch;
  options?: Pick<MpnnOptions, "device" | "threads" | "inferBatchSize">;
}

export interface MpnnInferResult {
  /** Predicted IP, eV, one per graph. */
  mean: number[];
  /** Zeros: one network has no predictive spread; the ensemble's comes from its members. */
  std: number[];
  device: string;
  inferSeconds: number;
}
