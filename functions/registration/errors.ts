import { describeError, FerryError, NotFoundError, ProtocolError } from "#core/errors.ts";
import type { ControlErrorBody } from "#core/protocol/control.ts";

/** The request contradicts what is registered (same id or hash, different content). */
export class ConflictError extends FerryError {}

/** Map a thrown value to the error body the Lambda returns; unknown errors are Internal. */
export function toControlError(error: unknown): ControlErrorBody {
  if (error instanceof ProtocolError) return { type: "BadRequest", message: error.toOneLine() };
  if (error instanceof NotFoundError) return { type: "NotFound", message: error.toOneLine() };
  if (error instanceof ConflictError) return { type: "Conflict", message: error.toOneLine() };
  return { type: "Internal", message: describeError(error) };
}
