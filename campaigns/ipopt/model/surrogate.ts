import { loadRDKit } from "../chem/rdkit.ts";
import {
  type EnsembleOptions,
  type Prediction,
  predictFingerprints,
  type SurrogateModel,
  trainOnFingerprints,
} from "./ensemble.ts";
import { type FingerprintOptions, morganFingerprints } from "./fingerprints.ts";

export interface TrainingRecord {
  smiles: string;
  /** Ionization potential, eV. */
  ip: number;
}

export interface TrainOptions extends EnsembleOptions, FingerprintOptions {}

/** Fits the surrogate to measured IPs. Deterministic for a given set, order and options. */
export async function train(
  trainingSet: readonly TrainingRecord[],
  options: TrainOptions = {},
): Promise<SurrogateModel> {
  const { radius, nBits, counts, ...ensemble } = options;
  const rdkit = await loadRDKit();
  const smiles = trainingSet.map((record) => record.smiles);
  const fps = morganFingerprints(rdkit, smiles, { radius, nBits, counts });
  const ip = Float64Array.from(trainingSet, (record) => record.ip);
  return trainOnFingerprints(smiles, fps, ip, ensemble);
}

/** Predicted IP (eV) and its spread for each SMILES. */
export async function infer(model: SurrogateModel, smiles: readonly string[]): Promise<Prediction> {
  const rdkit = await loadRDKit();
  return predictFingerprints(model, morganFingerprints(rdkit, smiles, model.fingerprint));
}
