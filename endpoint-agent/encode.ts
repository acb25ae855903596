import type { Reported } from "./result-builder.ts";
import { encodeResult } from "./result-encoding.ts";
import type { RunOutcome } from "./run-outcome.ts";
import type { TaskAttempt } from "./task-attempt.ts";
import type { TaskData } from "./task-data.ts";

/** A run that ended with something to report (a released or unavailable one reports nothing). */
export type Ended = Exclude<RunOutcome, { kind: "released" } | { kind: "unavailable" }>;

/**
 * The encode stage: a run's value as the result's payload, under the topic's store policy
 * (result-encoding.ts), or as the node worker stored it (task-data.ts uploads what it staged).
 * A value that cannot be stored makes the task failed; a failed run is reported as it is.
 * Records the timings the encoding took in the attempt.
 */
export async function encodeStage(a: TaskAttempt, data: TaskData, ended: Ended): Promise<Reported> {
  if (ended.kind !== "ok") return ended;
  const { ctx, task } = a;
  if (ended.inputsResolved !== undefined) a.timings.inputsResolved = ended.inputsResolved;
  const encoded = ended.encoded
    ? await data.finish(ended.encoded, {
        signal: ctx.runSignal,
        logger: a.log,
        owner: task.objectOwner,
      })
    : await encodeResult(ended.value, task.topic, {
        policies: ctx.config.storePolicies,
        stores: ctx.stores,
        signal: ctx.runSignal,
        logger: a.log,
        fromTask: task.resultStore,
        owner: task.objectOwner,
      });
  if (!encoded.ok) return { ...ended, kind: "failed", error: encoded.error };
  a.timings.serializeMs = encoded.serializeMs;
  a.timings.storeMs = encoded.storeMs;
  return { ...ended, value: encoded.payload };
}
