// Pure transforms for the surrogate's part of the report: what the model predicted for each
// molecule it chose against what the simulation gave, per model update, and the failures.
import type { SimulationRecord } from "./load.ts";

/** One simulated molecule: the prediction that chose it and the simulated IP. */
export interface ParityPoint {
  smiles: string;
  update: number;
  predictedEv: number;
  stdEv: number;
  simulatedEv: number;
  /** simulated - predicted. */
  errorEv: number;
  /** |error| <= std: inside the ensemble's one-sigma band. */
  withinStd: boolean;
}

/** The simulations that gave an IP and were chosen with a prediction, in record order. */
export function parityPoints(simulations: readonly SimulationRecord[]): ParityPoint[] {
  return simulations.flatMap((s) => {
    const p = s.predicted;
    if (p == null || s.ipEv === null || !Number.isFinite(s.ipEv)) return [];
    const errorEv = s.ipEv - p.meanEv;
    return [
      {
        smiles: s.smiles,
        update: p.update,
        predictedEv: p.meanEv,
        stdEv: p.stdEv,
        simulatedEv: s.ipEv,
        errorEv,
        withinStd: Math.abs(errorEv) <= p.stdEv,
      },
    ];
  });
}

/** How good one model update's predictions were, over the molecules it chose. */
export interface UpdateAccuracy {
  update: number;
  molecules: number;
  /** Mean absolute error, eV. */
  maeEv: number;
  /** Share with |error| <= std (0.68 for a calibrated Gaussian spread). */
  withinOneStd: number;
  /** Share with |error| <= 2 std (0.95 when calibrated). */
  withinTwoStd: number;
  /** Mean predicted std, eV: the spread the model claimed. */
  meanStdEv: number;
}

/** Per model update, in update order: its MAE and its uncertainty calibration. */
export function accuracyPerUpdate(points: readonly ParityPoint[]): UpdateAccuracy[] {
  const byUpdate = new Map<number, ParityPoint[]>();
  for (const p of points) byUpdate.set(p.update, [...(byUpdate.get(p.update) ?? []), p]);
  return [...byUpdate.entries()]
    .sort(([a], [b]) => a - b)
    .map(([update, list]) => {
      const share = (k: number) =>
        list.filter((p) => Math.abs(p.errorEv) <= k * p.stdEv).length / list.length;
      return {
        update,
        molecules: list.length,
        maeEv: mean(list.map((p) => Math.abs(p.errorEv))),
        withinOneStd: share(1),
        withinTwoStd: share(2),
        meanStdEv: mean(list.map((p) => p.stdEv)),
      };
    });
}

/** A simulation that gave no IP, and why (a relaxation that changed the molecule, an error). */
export interface FailedSimulation {
  smiles: string;
  reason: string;
}

/** Every simulation without an IP, in record order, with its one-line reason. */
export function failedSimulations(simulations: readonly SimulationRecord[]): FailedSimulation[] {
  return simulations.flatMap((s) => {
    if (s.ipEv !== null && Number.isFinite(s.ipEv)) return [];
    // Runs before the failure field: the task's error, else no reason was recorded.
    const reason =
      s.failure ??
      (s.error ? `${s.error.type}: ${s.error.message.split("\n")[0]}` : "no IP returned");
    return [{ smiles: s.smiles, reason }];
  });
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
