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

export const TaskError = z.object({
  type: ErrorType,
  message: z.string(),
  retriable: z.boolean(),
  stack: z.string().optional(),
});
export type TaskError = z.infer<typeof TaskError>;

const ResultBase = z.object({
  v: Version,
  taskId: Uuid,
  sessionId: Uuid,
  topic: z.string(),
  attempt: z.number().int().min(1),
  timings: Timings,
  worker: WorkerInfo,
  stdoutTail: z.string().optional(),
  stderrTail: z.string().optional(),
});

export const ResultMessage = z.discriminatedUnion("ok", [
  ResultBase.extend({ ok: z.literal(true), value: Payload }),
  ResultBase.extend({ ok: z.literal(false), error: TaskError }),
]);
export type ResultMessage = z.infer<typeof ResultMessage>;
