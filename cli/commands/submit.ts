import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { type Connection, connect } from "#core/connect.ts";
import { ConfigError } from "#core/errors.ts";
import { type Executor, executorFor, type TaskFuture, type TaskSpec } from "#sdk/index.ts";
import { withinDeadline } from "../deadline.ts";
import { ExitCode } from "../output.ts";
import { progressBar } from "../progress.ts";
import { warnIfNoAgent } from "../resolve.ts";
import { printable } from "../result-output.ts";
import { type BadLine, LINE_KEYS_HELP, linesText, parseSubmitLines } from "../submit-lines.ts";
import { type ResolvedLine, resolveLines } from "../submit-resolve.ts";

async function readLines(file: string | undefined): Promise<string[]> {
  if (file && file !== "-") {
    await access(file).catch((cause: unknown) => {
      throw new ConfigError(`tasks file not found: ${file}`, {
        cause,
        hint: "check the path, or pipe JSON lines on stdin",
      });
    });
  }
  const input = file && file !== "-" ? createReadStream(file) : process.stdin;
  const lines: string[] = [];
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }))
    lines.push(line);
  return lines;
}

interface SubmitOptions {
  function?: string;
  endpoint?: string;
  topic: string;
  walltime: string;
  timeout: string;
  session?: string;
  keepSession?: boolean;
  skipInvalid?: boolean;
}

export function registerSubmitCommand(program: Command): void {
  program
    .command("submit [file]")
    .description(
      "submit tasks from JSON lines (file or stdin) and print one JSON line per result; every line is checked before anything is sent",
    )
    .option("-f, --function <name>", "function for lines that name none")
    .option(
      "-e, --endpoint <endpoint>",
      "endpoint (UUID, name, or group:<name>) for lines that name none",
    )
    .option("--topic <topic>", "topic for lines that name none", "default")
    .option("--walltime <seconds>", "walltime for lines that set none", "3600")
    .option("--timeout <seconds>", "stop waiting for results after this long", "3600")
    .option("-s, --session <id>", "add to this session instead of opening a new one")
    .option("--keep-session", "leave the session open at the end")
    .option(
      "--skip-invalid",
      "run the valid lines and report the others, instead of sending nothing",
    )
    .addHelpText("after", LINE_KEYS_HELP)
    .action((file: string | undefined, opts: SubmitOptions) => submitCommand(file, opts));
}

/** Check every line (nothing is sent while one is bad, unless --skip-invalid), then run them. */
async function submitCommand(file: string | undefined, opts: SubmitOptions): Promise<void> {
  const { good, bad } = parseSubmitLines(await readLines(file), opts);
  if (good.length + bad.length === 0)
    throw new ConfigError("no tasks given", {
      hint: "pipe JSON lines on stdin or name a file",
    });
  const conn = await connect();
  try {
    const { resolved, bad: unresolved } = await resolveLines(conn.control, good);
    const invalid = [...bad, ...unresolved].sort((a, b) => a.lineNo - b.lineNo);
    reportInvalid(invalid, good.length + bad.length, Boolean(opts.skipInvalid));
    if (resolved.length === 0) throw new ConfigError("no valid task to send");
    await submitAndCollect(conn, resolved, opts, invalid.length);
  } finally {
    conn.close();
  }
}

/** Every bad line on stderr with its number; without --skip-invalid nothing is sent. */
function reportInvalid(invalid: readonly BadLine[], total: number, skip: boolean): void {
  for (const b of invalid) process.stderr.write(`ferry: line ${b.lineNo}: ${b.message}\n`);
  if (invalid.length === 0) return;
  if (!skip) {
    throw new ConfigError(
      `${invalid.length} of ${total} line(s) are not valid (${linesText(invalid.map((b) => b.lineNo))}); nothing was sent`,
      { hint: "fix them, or pass --skip-invalid to run the valid ones" },
    );
  }
  for (const b of invalid) {
    const error = { type: "InvalidLine", message: b.message };
    process.stdout.write(`${JSON.stringify({ line: b.lineNo, ok: false, error })}\n`);
  }
}

async function submitAndCollect(
  conn: Connection,
  lines: readonly ResolvedLine[],
  opts: SubmitOptions,
  invalid: number,
): Promise<void> {
  const executor = executorFor(conn);
  try {
    await warnIfNoAgent(
      conn.control,
      lines.map((l) => l.endpointId),
    );
    const session = await executor.open(opts.session);
    process.stderr.write(
      `ferry: session ${session.sessionId}: submitting ${lines.length} task(s)\n`,
    );
    const futures = await executor.submitMany(taskSpecs(lines, opts));
    const failed = await printResults(executor, futures, lines, Number(opts.timeout) * 1000);
    if (failed === "timeout") {
      const pending = executor.pendingTaskIds().length;
      process.stderr.write(`ferry: ${pending} result(s) still pending after ${opts.timeout}s\n`);
      process.exitCode = ExitCode.timeout;
      return;
    }
    const skipped = invalid > 0 ? `, ${invalid} invalid line(s) skipped` : "";
    process.stderr.write(
      `ferry: ${futures.length - failed} succeeded, ${failed} failed${skipped}\n`,
    );
    if (failed + invalid > 0) process.exitCode = ExitCode.taskFailed;
  } finally {
    await closeExecutor(executor, Boolean(opts.keepSession));
  }
}

/** Lines' own settings win over the command's defaults. */
function taskSpecs(lines: readonly ResolvedLine[], opts: SubmitOptions): TaskSpec[] {
  return lines.map((p) => ({
    function: p.fn,
    args: p.line.args ?? null,
    endpointId: p.endpointId,
    topic: p.line.topic ?? opts.topic,
    walltimeSeconds: p.line.walltimeSeconds ?? Number(opts.walltime),
    ...(p.line.maxAttempts ? { maxAttempts: p.line.maxAttempts } : {}),
  }));
}

/**
 * One JSON line per result as it arrives, under a progress bar, until all are in or the
 * deadline passes.
 * @returns how many failed, or "timeout"
 */
async function printResults(
  executor: Executor,
  futures: readonly TaskFuture[],
  lines: readonly ResolvedLine[],
  timeoutMs: number,
): Promise<number | "timeout"> {
  const lineOf = new Map(futures.map((f, i) => [f.taskId, lines[i]?.lineNo]));
  const bar = progressBar(futures.length, "results");
  let failed = 0;
  const all = Promise.all(
    futures.map(async (f) => {
      const printed = await printable(await f.result, (r) => executor.value(r));
      if (!printed.ok) failed++;
      bar.increment();
      // Above the bar, never over it: a terminal shows stdout and stderr together.
      bar.print(`${JSON.stringify({ line: lineOf.get(printed.taskId), ...printed })}\n`);
    }),
  );
  const outcome = await withinDeadline(all, timeoutMs);
  bar.stop();
  return outcome === "timeout" ? outcome : failed;
}

/** The session closes only once every result is in (Executor.close checks). */
async function closeExecutor(executor: Executor, keepSession: boolean): Promise<void> {
  const closed = await executor.close({ closeSession: !keepSession }).catch(() => undefined);
  if (closed && closed.pendingTaskIds.length > 0 && executor.sessionId) {
    process.stderr.write(
      `ferry: session ${executor.sessionId} kept open for ${closed.pendingTaskIds.length} pending result(s): collect them with \`ferry results --session ${executor.sessionId}\`\n`,
    );
  }
}
