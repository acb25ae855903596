import { describeError } from "#core/errors.ts";
import type { ResultMessage } from "#core/protocol/index.ts";
import { describeNonJson } from "#core/store/index.ts";

/** What the CLI prints for one result: its value, or an error that says why not. */
export type PrintedResult =
  | { taskId: string; ok: true; value: unknown }
  | { taskId: string; ok: false; error: { type: string; message: string } };

/**
 * The printable form of a result. A value JSON cannot carry (a BigInt, a Map, bytes) or one
 * that cannot be fetched from the store becomes that task's error, never the whole command's:
 * the other results of a run still print.
 */
export async function printable(
  result: ResultMessage,
  decode: (r: ResultMessage) => Promise<unknown>,
): Promise<PrintedResult> {
  const { taskId } = result;
  if (!result.ok) return { taskId, ok: false, error: result.error };
  let value: unknown;
  try {
    value = await decode(result);
  } catch (error) {
    return {
      taskId,
      ok: false,
      error: { type: "ValueUnavailable", message: describeError(error) },
    };
  }
  const nonJson = describeNonJson(value);
  if (nonJson) {
    const message = `the result holds ${nonJson}, which JSON output cannot show: return numbers, strings, arrays and plain objects, or read the value with the SDK (executor.value)`;
    return { taskId, ok: false, error: { type: "ResultNotJson", message } };
  }
  return { taskId, ok: true, value };
}
