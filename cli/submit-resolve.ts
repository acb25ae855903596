import type { ControlClient } from "#core/control/index.ts";
import { describeError } from "#core/errors.ts";
import { checkFunctionName, resolveEndpointId } from "./resolve.ts";
import type { BadLine, ParsedLine } from "./submit-lines.ts";

export interface ResolvedLine extends ParsedLine {
  endpointId: string;
}

/**
 * Each distinct endpoint and function of the lines looked up once; a line naming one that
 * does not exist is bad, with its number, so every mistake of a file is reported together.
 */
export async function resolveLines(
  control: Pick<ControlClient, "call">,
  lines: readonly ParsedLine[],
): Promise<{ resolved: ResolvedLine[]; bad: BadLine[] }> {
  const endpointIds = new Map<string, string | Error>();
  for (const name of new Set(lines.map((l) => l.endpoint))) {
    endpointIds.set(name, await resolveEndpointId(control, name).catch((e: Error) => e));
  }
  const functions = new Map<string, Error | undefined>();
  for (const name of new Set(lines.map((l) => l.fn))) {
    functions.set(
      name,
      await checkFunctionName(control, name).then(
        () => undefined,
        (e: Error) => e,
      ),
    );
  }
  const resolved: ResolvedLine[] = [];
  const bad: BadLine[] = [];
  for (const line of lines) {
    const endpointId = endpointIds.get(line.endpoint);
    const fnError = functions.get(line.fn);
    if (endpointId instanceof Error)
      bad.push({ lineNo: line.lineNo, message: describeError(endpointId) });
    else if (fnError) bad.push({ lineNo: line.lineNo, message: describeError(fnError) });
    else if (endpointId !== undefined) resolved.push({ ...line, endpointId });
  }
  return { resolved, bad };
}
