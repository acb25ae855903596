import { createRandom, shuffled } from "../campaigns/ipopt/data/random.ts";
import {
  type EnsembleOptions,
  type Fingerprints,
  predictFingerprints,
  selectRows,
  trainOnFingerprints,
} from "../campaigns/ipopt/model/index.ts";

export interface HoldoutResult {
  trainSize: number;
  testSize: number;
  /** Mean absolute error, eV, of the surrogate and of predicting the training mean. */
  maeEv: number;
  /** Root mean square error, eV. */
  rmseEv: number;
  meanPredictorMaeEv: number;
  /** Fraction of test molecules whose |error| is within one predicted std. */
  withinOneStd: number;
  seconds: number;
}

/** Trains on a random subset and scores the rest (or testSize of the rest). */
export function holdout(
  smiles: readonly string[],
  fps: Fingerprints,
  ip: Float64Array,
  options: { trainSize: number; testSize: number; seed: number; model: EnsembleOptions },
): HoldoutResult {
  const order = shuffled(
    Array.from({ length: fps.count }, (_, i) => i),
    createRandom(options.seed),
  );
  const trainRows = order.slice(0, options.trainSize);
  const testRows = order.slice(options.trainSize, options.trainSize + options.testSize);
  const started = performance.now();
  const model = trainOnFingerprints(
    trainRows.map((row) => smiles[row] as string),
    selectRows(fps, trainRows),
    Float64Array.from(trainRows, (row) => ip[row] as number),
    options.model,
  );
  const prediction = predictFingerprints(model, selectRows(fps, testRows));
  const seconds = (performance.now() - started) / 1000;
  const trainMean = trainRows.reduce((sum, row) => sum + (ip[row] as number), 0) / trainRows.length;
  let mae = 0;
  let squares = 0;
  let meanMae = 0;
  let within = 0;
  for (const [q, row] of testRows.entries()) {
    const error = Math.abs((prediction.mean[q] as number) - (ip[row] as number));
    mae += error;
    squares += error * error;
    meanMae += Math.abs(trainMean - (ip[row] as number));
    if (error <= (prediction.std[q] as number)) within++;
  }
  const n = testRows.length;
  return {
    trainSize: trainRows.length,
    testSize: n,
    maeEv: mae / n,
    rmseEv: Math.sqrt(squares / n),
    meanPredictorMaeEv: meanMae / n,
    withinOneStd: within / n,
    seconds,
  };
}
