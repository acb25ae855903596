export {
  type EnsembleOptions,
  fitMembers,
  type Prediction,
  predictFingerprints,
  predictMembers,
  type SurrogateMember,
  type SurrogateModel,
  submatrix,
  trainingFingerprints,
  trainOnFingerprints,
} from "./ensemble.ts";
export {
  type FingerprintOptions,
  type Fingerprints,
  morganFingerprints,
  selectRows,
} from "./fingerprints.ts";
export { fitGp, type GpFitOptions, type GpMember, type GpPrediction, predictGp } from "./gp.ts";
export { modelFromJson, modelToJson, type SurrogateModelJson } from "./serialize.ts";
export { infer, type TrainingRecord, type TrainOptions, train } from "./surrogate.ts";
export { tanimotoMatrix } from "./tanimoto.ts";
