import { TaskFailedError } from "#core/errors.ts";
import {
  infer as inferSurrogate,
  modelFromJson,
  type SurrogateModel,
  type SurrogateModelJson,
} from "../model/index.ts";

export interface InferArgs {
  model: SurrogateModelJson | SurrogateModel;
  smiles: string[];
}

export interface InferResult {
  /** Predicted IP, eV, one per SMILES. */
  mean: number[];
  /** Spread of the prediction, eV (UCB uses mean + beta * std). */
  std: number[];
}

/** Ferry function: scores a chunk of molecules with a trained surrogate. */
export default async function infer(args: InferArgs): Promise<InferResult> {
  if (!Array.isArray(args?.smiles))
    throw new TaskFailedError("infer needs { model, smiles: string[] }");
  const prediction = await inferSurrogate(modelFromJson(args.model), args.smiles);
  return { mean: Array.from(prediction.mean), std: Array.from(prediction.std) };
}
