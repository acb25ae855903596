import { FerryError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import { parseJsonWith, ResultMessage } from "#core/protocol/index.ts";
import {
  decodePayload,
  deletePayload,
  isTemporaryPayload,
  type Stores,
} from "#core/store/index.ts";
import type { ValueOptions } from "./executor-types.ts";

/** A result message's body from the queue, or undefined (logged) when it is not one. */
export function parseResultBody(
  body: string,
  logger: Logger | undefined,
  sessionId: string,
): ResultMessage | undefined {
  try {
    return parseJsonWith(ResultMessage, body, "result message");
  } catch (error) {
    logger?.error({ err: error, sessionId }, "dropped a malformed result");
    return undefined;
  }
}

/**
 * A successful result's value (see Executor.value); a failed one throws its error. With
 * `deletes`, a temporary object's deletion runs off the caller's path (the value is already
 * verified and in hand) and is added there for close() to wait on.
 */
export async function resultValue(
  result: ResultMessage,
  stores: Stores,
  options: ValueOptions,
  deletes?: Set<Promise<void>>,
): Promise<unknown> {
  if (!result.ok)
    throw new FerryError(
      `task ${result.taskId} failed: ${result.error.type}: ${result.error.message}`,
      { context: { taskId: result.taskId } },
    );
  const value = await decodePayload(result.value, stores);
  if (!options.keep && isTemporaryPayload(result.value)) {
    const deleting = deletePayload(result.value, stores).catch(() => undefined);
    if (!deletes) await deleting;
    else {
      deletes.add(deleting);
      void deleting.then(() => deletes.delete(deleting));
    }
  }
  return value;
}
