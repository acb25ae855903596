import { z } from "zod";
import { SafeName } from "#core/protocol/index.ts";

/**
 * One input line of `ferry submit`; command-line options fill what a line leaves out.
 * Keys: function, args, endpoint (UUID or name), topic, walltimeSeconds, maxAttempts.
 */
export const SubmitLine = z.strictObject({
  function: SafeName.optional(),
  args: z.json().optional(),
  endpoint: z.string().min(1).optional(),
  topic: SafeName.optional(),
  walltimeSeconds: z.number().int().positive().optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});
export type SubmitLine = z.infer<typeof SubmitLine>;

export const LINE_KEYS_HELP = `
Each line is one JSON object with any of these keys (options fill the missing ones):
  "function"         registered function name (or --function)
  "args"             the function's argument, any JSON (default null)
  "endpoint"         endpoint UUID or name (or --endpoint)
  "topic"            task type: picks store policies (or --topic)
  "walltimeSeconds"  kill the task after this long, 1 to 39600 (or --walltime)
  "maxAttempts"      deliveries before the task is given up, 1 to 100 (default 3)

Example:
  printf '{"args": {"n": 1}}\\n{"args": {"n": 2}, "topic": "big"}\\n' | ferry submit -f sum-squares -e cpu`;

export interface ParsedLine {
  lineNo: number;
  fn: string;
  endpoint: string;
  line: SubmitLine;
}

export interface BadLine {
  lineNo: number;
  message: string;
}

/** Every line checked, none thrown: the good ones, and each bad one with why. */
export function parseSubmitLines(
  texts: readonly string[],
  defaults: { function?: string | undefined; endpoint?: string | undefined },
): { good: ParsedLine[]; bad: BadLine[] } {
  const good: ParsedLine[] = [];
  const bad: BadLine[] = [];
  texts.forEach((text, i) => {
    const lineNo = i + 1;
    if (text.trim() === "") return;
    const outcome = parseLine(text, defaults);
    if ("message" in outcome) bad.push({ lineNo, message: outcome.message });
    else good.push({ lineNo, ...outcome });
  });
  return { good, bad };
}

function parseLine(
  text: string,
  defaults: { function?: string | undefined; endpoint?: string | undefined },
): Omit<ParsedLine, "lineNo"> | { message: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { message: "not valid JSON: give one JSON object per line" };
  }
  const line = SubmitLine.safeParse(json);
  if (!line.success) {
    const issue = line.error.issues[0];
    return { message: `${issue?.path.join(".") || "(line)"}: ${issue?.message}` };
  }
  const fn = line.data.function ?? defaults.function;
  const endpoint = line.data.endpoint ?? defaults.endpoint;
  if (!fn) return { message: 'names no function: add "function" or pass --function' };
  if (!endpoint) return { message: 'names no endpoint: add "endpoint" or pass --endpoint' };
  return { fn, endpoint, line: line.data };
}

/** "line 3" or "lines 3, 7, 9" (at most 10 numbers, then "and N more"). */
export function linesText(lineNos: readonly number[]): string {
  const shown = lineNos.slice(0, 10).join(", ");
  const more = lineNos.length > 10 ? ` and ${lineNos.length - 10} more` : "";
  return `${lineNos.length === 1 ? "line" : "lines"} ${shown}${more}`;
}
