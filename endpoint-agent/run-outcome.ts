import type { Logger } from "#core/logger.ts";
import type { TaskError } from "#core/protocol/index.ts";
import type { WorkerEncoded } from "./worker-data.ts";
import type { ArgsRef, ResultSpec } from "./worker-ipc.ts";

export type OutputStream = "stdout" | "stderr";

/** Takes a task's output as it comes (the live log), besides the runner's own tails. */
export interface OutputSink {
  write(stream: OutputStream, chunk: Buffer): void;
}

/** What a runner (node or shell) needs to run one task. */
export interface RunTask {
  taskId: string;
  /** Warm workers serve one session only: no task sees another session's module state. */
  sessionId: string;
  functionName: string;
  sha256: string;
  /** The decoded arguments (plain JSON, or typed arrays and the like from a msgpack ref). */
  args: unknown;
  /** Node workers only: arguments the worker reads itself (args is then unused). */
  argsRef?: ArgsRef;
  /** Node workers only: the worker stores its result by this policy. */
  resultSpec?: ResultSpec;
  walltimeMs: number;
  /** The slot's GPU, exported as CUDA_VISIBLE_DEVICES. */
  gpu: string | undefined;
  /** Aborted when the agent shuts down and releases the task to another agent. */
  release: AbortSignal;
  /** Aborted when a client cancels the task: stop it and report Cancelled. */
  cancel: AbortSignal;
  /** Where the function's output also goes while it runs; absent when nobody reads it live. */
  output?: OutputSink;
  logger: Logger;
}

export interface RunOutput {
  /** The process that ran the function. */
  pid: number | undefined;
  started: number | undefined;
  ended: number | undefined;
  stdoutTail: string | undefined;
  stderrTail: string | undefined;
}

export type RunOutcome =
  | ({
      kind: "ok";
      value: unknown;
      /** Set when the worker stored the result itself (a resultSpec was given). */
      encoded?: WorkerEncoded;
      /** When the worker had read its arguments (an argsRef was given). */
      inputsResolved?: number;
    } & RunOutput)
  | ({ kind: "failed"; error: TaskError } & RunOutput)
  /** Stopped for shutdown: no result; the message goes back to the queue. */
  | ({ kind: "released" } & RunOutput)
  /** The worker could not reach the store for its arguments: no result; tried again later. */
  | ({ kind: "unavailable"; err: unknown; what: string } & RunOutput);

export function timeoutError(walltimeMs: number, killGraceMs: number): TaskError {
  return {
    type: "Timeout",
    message: `ran past its walltime of ${walltimeMs / 1000} s and was stopped (SIGTERM, then SIGKILL after ${killGraceMs / 1000} s)`,
    retriable: false,
  };
}

/** A running task stopped because a client cancelled it: not a Timeout, not a crash. */
export function cancelledError(ranMs: number): TaskError {
  return {
    type: "Cancelled",
    message: `cancelled while running after ${Math.round(ranMs / 100) / 10} s`,
    retriable: false,
  };
}
