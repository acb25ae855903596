import { TaskFailedError } from "#core/errors.ts";
import {
  modelToJson,
  type SurrogateModelJson,
  type TrainingRecord,
  type TrainOptions,
  train as trainSurrogate,
} from "../model/index.ts";

export interface TrainArgs {
  trainingSet: TrainingRecord[];
  options?: TrainOptions;
}

/** Ferry function: fits the surrogate; the model comes back as JSON (typed arrays in base64). */
export default async function train(args: TrainArgs): Promise<SurrogateModelJson> {
  if (!Array.isArray(args?.trainingSet)) {
    throw new TaskFailedError("train needs { trainingSet: { smiles, ip }[] }");
  }
  return modelToJson(await trainSurrogate(args.trainingSet, args.options ?? {}));
}
