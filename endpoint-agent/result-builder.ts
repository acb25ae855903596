import {
  type Payload,
  PROTOCOL_VERSION,
  type ResultMessage,
  type TaskError,
  type TaskMessage,
} from "#core/protocol/index.ts";
import type { RunOutput } from "./run-outcome.ts";
import type { Slot } from "./slots.ts";

/** What a result reports: the encoded value, or why there is none. */
export type Reported =
  | ({ kind: "ok"; value: Payload } & RunOutput)
  | ({ kind: "failed"; error: TaskError } & RunOutput);

export interface ResultTimings {
  created: number;
  sent: number;
  received: number;
  inputsResolved?: number;
  serializeMs?: number;
  storeMs?: number;
}

/** The result message of a task, from what its run produced. */
export function buildResult(
  task: TaskMessage,
  attempt: number,
  timings: ResultTimings,
  worker: { endpointId: string; host: string; pid: number },
  slot: Slot,
  outcome: Reported,
): ResultMessage {
  const base = {
    v: PROTOCOL_VERSION,
    taskId: task.taskId,
    sessionId: task.sessionId,
    topic: task.topic,
    attempt,
    timings: {
      ...timings,
      ...(outcome.started === undefined ? {} : { started: outcome.started }),
      ...(outcome.ended === undefined ? {} : { ended: outcome.ended }),
      resultSent: Date.now(),
    },
    worker: {
      ...worker,
      ...(outcome.pid === undefined ? {} : { pid: outcome.pid }),
      ...(slot.gpu === undefined ? {} : { gpu: slot.gpu }),
    },
    ...(outcome.stdoutTail === undefined ? {} : { stdoutTail: outcome.stdoutTail }),
    ...(outcome.stderrTail === undefined ? {} : { stderrTail: outcome.stderrTail }),
  };
  return outcome.kind === "ok"
    ? { ...base, ok: true, value: outcome.value }
    : { ...base, ok: false, error: outcome.error };
}

/** The outcome of a task refused or failed before it ran. */
export function notRun(error: TaskError): Reported {
  const none = undefined;
  return {
    kind: "failed",
    error,
    pid: none,
    started: none,
    ended: none,
    stdoutTail: none,
    stderrTail: none,
  };
}
