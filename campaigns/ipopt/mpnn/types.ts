import type { GraphBatch } from "./graph.ts";

/** Options of the MPNN's train (and, for device/threads/inferBatchSize, infer) function. */
export interface MpnnOptions {
  /** Passes over the training set; early stopping may end sooner. @default 128 */
  epochs?: number;
  /** Adam's learning rate. @default 1e-3 */
  learningRate?: number;
  /** Molecules per gradient step (the seed's). @default 32 */
  batchSize?: number;
  /** Width of atom states and messages; the model JSON grows with its square. @default 64 */
  hidden?: number;
  /** Message-passing rounds. @default 3 */
  steps?: number;
  /** Seeds the weights and the batches (reproducible on the CPU). @default 0 */
  seed?: number;
  /** Share held out for early stopping (none under 10 molecules). @default 0.1 */
  validationFraction?: number;
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
}

/** The trained network as JSON; opaque to the campaign, which passes it back to infer. */
export interface MpnnModelJson {
  kind: "mpnn";
  version: 1;
  config: {
    atomFields: { name: string; size: number }[];
    bondTypes: string[];
    hidden: number;
    steps: number;
  };
  /** The network predicts (ip - mean) / std. */
  normalisation: { mean: number; std: number };
  /** state_dict: name -> shape and base64 of little-endian float32 values. */
  weights: Record<string, { shape: number[]; data: string }>;
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
