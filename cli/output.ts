import {
  ConfigError,
  ConflictError,
  describeError,
  FerryError,
  NotFoundError,
  ProtocolError,
  RefusedError,
  TransientError,
} from "#core/errors.ts";

/** Exit codes a script can branch on. */
export const ExitCode = {
  ok: 0,
  taskFailed: 1,
  usage: 2,
  notFound: 3,
  unreachable: 4,
  timeout: 124,
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof NotFoundError) return ExitCode.notFound;
  if (error instanceof TransientError) return ExitCode.unreachable;
  if (
    error instanceof ConfigError ||
    error instanceof ProtocolError ||
    error instanceof RefusedError ||
    error instanceof ConflictError
  ) {
    return ExitCode.usage;
  }
  if (error instanceof FerryError) return ExitCode.taskFailed;
  return ExitCode.taskFailed;
}

/** Print a value for humans (text) or scripts (--json, one JSON document). */
export function emit(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
}

/**
 * One line on stderr, and the exit code that goes with the error. With --json the line is a
 * JSON object (`{"error": {type, message, hint, exitCode}}`), so scripts parse failures too.
 */
export function fail(error: unknown, argv: readonly string[] = process.argv): never {
  const exitCode = exitCodeFor(error);
  if (argv.includes("--json")) {
    const e = error instanceof Error ? error : new Error(String(error));
    const hint = error instanceof FerryError ? error.hint : undefined;
    const body = { type: e.name, message: e.message, ...(hint ? { hint } : {}), exitCode };
    process.stderr.write(`${JSON.stringify({ error: body })}\n`);
    process.exit(exitCode);
  }
  process.stderr.write(`ferry: ${describeError(error)}\n`);
  if (process.env.FERRY_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exit(exitCode);
}

/** Fixed-width table for human output. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
