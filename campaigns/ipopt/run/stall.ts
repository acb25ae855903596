// What the campaign does once nothing would move it on: the queue dry, no simulation out and
// no model update running. A pure decision, so that every case can be tested on its own.

/** What the stall check looks at after a simulate result or the end of a model update. */
export interface StallView {
  /** The queue holds no molecule left to submit. */
  queueDry: boolean;
  /** Simulations submitted whose results have not come back. */
  inFlight: number;
  /** A model update is running: its end refills the queue. */
  updateRunning: boolean;
  /** Molecules of the search space neither in the training set nor ever submitted. */
  unsearched: number;
  /** Whether the last model update to finish scored the search space (some model trained). */
  lastUpdateScored: boolean;
}

/**
 * `none`: something is still going on (or the queue has work); `update`: start a model update
 * to refill the queue; `stop-exhausted`: every molecule was searched, stop normally;
 * `stop-error`: the models produced no scores and nothing else can refill the queue.
 */
export type StallDecision =
  | { kind: "none" }
  | { kind: "update"; unsearched: number }
  | { kind: "stop-exhausted" }
  | { kind: "stop-error"; unsearched: number };

/**
 * Decides what to do when the run may have stalled. An update follows only one that scored,
 * so a model that keeps failing stops the run instead of retraining forever.
 */
export function stallDecision(view: StallView): StallDecision {
  if (!view.queueDry || view.inFlight > 0 || view.updateRunning) return { kind: "none" };
  if (view.unsearched === 0) return { kind: "stop-exhausted" };
  if (!view.lastUpdateScored) return { kind: "stop-error", unsearched: view.unsearched };
  return { kind: "update", unsearched: view.unsearched };
}
