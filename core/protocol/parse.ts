import type { z } from "zod";
import { type ErrorContext, ProtocolError } from "../errors.ts";

/**
 * Parse untrusted input with a schema; a failure becomes one ProtocolError whose message
 * names the first bad field, e.g. `task message: args: Invalid input`.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  context: ErrorContext = {},
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  throw new ProtocolError(`${what}: ${path}${issue?.message ?? "invalid"}`, {
    cause: result.error,
    context,
  });
}

/** Parse a JSON string then validate it; bad JSON is a ProtocolError too. */
export function parseJsonWith<S extends z.ZodType>(
  schema: S,
  text: string,
  what: string,
  context: ErrorContext = {},
): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ProtocolError(`${what}: not valid JSON`, { cause, context });
  }
  return parseWith(schema, value, what, context);
}
