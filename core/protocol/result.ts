import { z } from "zod";
import { EpochMs, Uuid, Version } from "./common.ts";
import { Payload } from "./payload.ts";

export const Timings = z.object({
  created: EpochMs,
  sent: EpochMs,
  /** When the agent received the message. */
  received: EpochMs,
  inputsResolved: EpochMs.optional(),
  started: EpochMs.optional(),
  ended: EpochMs.optional(),
  resultSent: EpochMs,
  /** Filled by the client when the result arrives. */
  resultReceived: EpochMs.optional(),
  serializeMs: z.number().nonnegative().optional(),
  storeMs: z.number().nonnegative().optional(),
});
export type Timings = z.infer<typeof Timings>;

export const WorkerInfo = z.object({
  endpointId: Uuid,
  host: z.string(),
  pid: z.number().int(),
  gpu: z.string().optional(),
});

export const ErrorType = z.enum([
  "FunctionError",
  "Timeout",
  "WorkerCrashed",
  "UnknownFunction",
  "Refused",
  "MalformedTask",
  "InputError",
  "Cancelled",
  "Internal",
]);
export type ErrorType = z.infer<typeof ErrorType>;

/** Why a task failed: a kind (Cancelled, Timeout, WorkerCrashed, ...), a message, and whether a retry may help. */
export const TaskError = z.object({
  type: ErrorType,
  message: z.string(),
  retriable: z.boolean(),
  /** The function's stack trace, for a node function that threw. */
  stack: z.string().optional(),
});
export type TaskError = z.infer<typeof TaskError>;

const ResultBase = z.object({
  v: Version,
  taskId: Uuid,
  sessionId: Uuid,
  topic: z.string(),
  /** Which attempt produced it (1 unless the task was delivered again). */
  attempt: z.number().int().min(1),
  /** Epoch ms of each stage: created, received, started, ended, resultSent, ... */
  timings: Timings,
  /** Where it ran: endpoint, host, pid. */
  worker: WorkerInfo,
  /** The last 4 KiB of the task's stdout and stderr. */
  stdoutTail: z.string().optional(),
  stderrTail: z.string().optional(),
});

/**
 * One task's result, sent once per task to its session's result queue: `ok` with a value
 * (inline, or a reference into the store that Executor.value fetches), or not, with an error.
 */
export const ResultMessage = z.discriminatedUnion("ok", [
  ResultBase.extend({ ok: z.literal(true), value: Payload }),
  ResultBase.extend({ ok: z.literal(false), error: TaskError }),
]);
export type ResultMessage = z.infer<typeof ResultMessage>;
