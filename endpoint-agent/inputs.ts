import { FerryError } from "#core/errors.ts";
import type { FunctionRecord, TaskError } from "#core/protocol/index.ts";
import { checkOwnedBy, decodePayloadTimed, describeNonJson } from "#core/store/index.ts";
import { resolutionError } from "./policy.ts";
import type { TaskAttempt } from "./task-attempt.ts";
import type { TaskData } from "./task-data.ts";
import type { ArgsRef } from "./worker-ipc.ts";

// The stage-inputs stage: the function's record (and a node function's bundle) by hash, and
// the arguments, decoded here or handed to a node worker to read itself.

/** What a task runs with once its inputs are staged. */
export interface TaskInputs {
  record: FunctionRecord;
  /** A node function's bundle on local disk. */
  bundlePath: string | undefined;
  /** The decoded arguments; unset when the worker reads them itself (argsRef). */
  args: unknown;
  argsRef: ArgsRef | undefined;
}

/**
 * - `staged`: ready to run.
 * - `failed`: the task cannot run (unknown function, bad arguments); reported with `error`.
 * - `unavailable`: the registry or the store could not be reached; tried again later.
 */
export type Staged =
  | { kind: "staged"; inputs: TaskInputs }
  | { kind: "failed"; error: TaskError }
  | { kind: "unavailable"; err: unknown; what: string };

/** Resolve the function, then fetch the arguments. Throws only on a bug. */
export async function stageInputs(a: TaskAttempt, data: TaskData): Promise<Staged> {
  const { ctx, task } = a;
  let record: FunctionRecord;
  let bundlePath: string | undefined;
  try {
    record = await ctx.functions.record(task.function, ctx.runSignal);
    if (record.spec.kind === "node") {
      bundlePath = await ctx.functions.bundlePath(record, ctx.runSignal);
    }
  } catch (err) {
    const error = resolutionError(task, err);
    if (!error) return { kind: "unavailable", err, what: "resolve the function" };
    a.log.warn({ error }, "task not run");
    return { kind: "failed", error };
  }
  let args: unknown;
  let argsRef: ArgsRef | undefined;
  try {
    // A node worker reads arguments stored by reference itself; the rest are decoded here.
    // Redis has no per-principal access control: only the session owner's own objects.
    if ("ref" in task.args && task.args.ref.store === "redis") {
      checkOwnedBy(task.args.ref.location, task.objectOwner);
    }
    if (record.spec.kind === "node") argsRef = await data.argsRef(task.args);
    if (!argsRef) args = (await decodePayloadTimed(task.args, ctx.stores)).value;
  } catch (err) {
    if (!(err instanceof FerryError))
      return { kind: "unavailable", err, what: "fetch the arguments" };
    return { kind: "failed", error: inputError(`arguments: ${err.toOneLine()}`) };
  }
  const nonJson = record.spec.kind === "shell" ? describeNonJson(args) : undefined;
  if (nonJson) {
    const message = `a shell function takes JSON arguments on stdin, but they hold ${nonJson}`;
    return { kind: "failed", error: inputError(message) };
  }
  return { kind: "staged", inputs: { record, bundlePath, args, argsRef } };
}

const inputError = (message: string): TaskError => ({
  type: "InputError",
  message,
  retriable: false,
});
