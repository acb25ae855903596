import { FerryError, NotFoundError, RefusedError } from "#core/errors.ts";
import { queueNames } from "#core/names.ts";
import type { TaskError, TaskMessage } from "#core/protocol/index.ts";
import { allowListRefusal } from "./allow-list.ts";
import type { TaskContext } from "./task-context.ts";

/** Why the task is not addressed to the queue it came from, or undefined when it is. */
export function addressRefusal(ctx: TaskContext, task: TaskMessage): string | undefined {
  const expected = ctx.group?.groupId ?? ctx.endpointId;
  if (task.endpointId === expected) return undefined;
  const to = ctx.group ? `group ${ctx.group.name}` : "this one";
  return `task is addressed to endpoint ${task.endpointId}, not to ${to} (${expected})`;
}

/**
 * Why this endpoint will not run the task, or undefined when it may. A group task refused
 * here goes on to another member (pass-on.ts).
 */
export function policyRefusal(ctx: TaskContext, task: TaskMessage): string | undefined {
  const refused = allowListRefusal(ctx.config.allowedFunctions, task.function);
  if (refused) return refused;
  if (task.resources.gpus > 1) {
    return `task asks for ${task.resources.gpus} GPUs; this endpoint runs one task per GPU`;
  }
  if (task.resources.gpus === 1 && ctx.config.gpuIds.length === 0) {
    return "task asks for a GPU; this endpoint has none (set gpuIds in its site config)";
  }
  return undefined;
}

/** The failed result for a function that cannot run, or undefined when worth retrying. */
export function resolutionError(task: TaskMessage, err: unknown): TaskError | undefined {
  if (err instanceof NotFoundError) {
    return {
      type: "UnknownFunction",
      message: `function ${task.function.name} with sha256 ${task.function.sha256} is not registered: register it with \`ferry function register <file.ts> --name ${task.function.name}\``,
      retriable: false,
    };
  }
  if (err instanceof RefusedError)
    return { type: "Refused", message: err.toOneLine(), retriable: false };
  if (err instanceof FerryError && !err.retriable) {
    return { type: "Internal", message: err.toOneLine(), retriable: false };
  }
  return undefined;
}

/**
 * Why a task's replyTo is refused, or undefined: results go only to the result queue of the
 * session the task names (`<prefix>results-<sessionId>`). Otherwise whoever could send a task
 * could make agents send results, with their credentials, to any queue they may reach.
 */
export function replyToRefusal(task: TaskMessage, queuePrefix: string): string | undefined {
  const expected = queueNames.results(queuePrefix, task.sessionId);
  const name = task.replyTo.split("/").at(-1);
  if (name === expected) return undefined;
  return `replyTo ${task.replyTo} is not the result queue of session ${task.sessionId} (${expected})`;
}
