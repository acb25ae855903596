import { classifyAwsError } from "#core/aws/index.ts";
import {
  ConflictError,
  describeError,
  NotFoundError,
  ProtocolError,
  RefusedError,
  TransientError,
} from "#core/errors.ts";
import type { ControlErrorBody } from "#core/protocol/index.ts";

export { ConflictError };

/** Map a thrown value to the error body the Lambda returns; unknown errors are Internal. */
export function toControlError(error: unknown): ControlErrorBody {
  if (error instanceof ProtocolError) return { type: "BadRequest", message: error.toOneLine() };
  if (error instanceof NotFoundError) return { type: "NotFound", message: error.toOneLine() };
  if (error instanceof ConflictError) return { type: "Conflict", message: error.toOneLine() };
  if (error instanceof RefusedError) return { type: "Forbidden", message: error.toOneLine() };
  if (error instanceof TransientError) return { type: "Unavailable", message: error.toOneLine() };
  // AWS throttled the function's own calls (after the SDK's retries): the caller retries.
  if (isThrottled(error)) return { type: "Unavailable", message: describeError(error) };
  return { type: "Internal", message: describeError(error) };
}

function isThrottled(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return status !== undefined && classifyAwsError(error) === "transient";
}
