import { readFile } from "node:fs/promises";
import { text } from "node:stream/consumers";
import type { Command } from "commander";
import { type Connection, connect } from "#core/connect.ts";
import { ConfigError, NotFoundError } from "#core/errors.ts";
import type { ResultMessage } from "#core/protocol/index.ts";
import { type Executor, executorFor, type TaskFuture } from "#sdk/index.ts";
import { withinDeadline } from "../deadline.ts";
import { ExitCode, emit } from "../output.ts";
import {
  checkFunctionName,
  parseJsonOption,
  resolveEndpointId,
  warnIfNoAgent,
} from "../resolve.ts";
import { printable } from "../result-output.ts";

interface RunOptions {
  endpoint: string;
  args: string;
  argsFile?: string;
  topic: string;
  walltime: string;
  timeout: string;
  json?: boolean;
}

export function registerRunCommand(program: Command): void {
  program
    .command("run <function>")
    .description("run one task on an endpoint and print its result")
    .requiredOption(
      "-e, --endpoint <endpoint>",
      "endpoint UUID or name, or group:<name> (any member with a free slot)",
    )
    .option(
      "-a, --args <json>",
      "the function's argument, as JSON ('-': read it from stdin)",
      "null",
    )
    .option(
      "--args-file <file>",
      "read the argument from a JSON file (any size: large ones go by reference)",
    )
    .option("--topic <topic>", "task type", "default")
    .option("--walltime <seconds>", "kill the task after this long", "3600")
    .option("--timeout <seconds>", "stop waiting for the result after this long", "600")
    .option("--json", "print the whole result message as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  ferry run sum-squares -e cpu --args '{\"n\": 10}'\n  ferry run train -e gpu --args-file big-input.json\n  generate-input | ferry run train -e gpu --args -",
    )
    .action((fn: string, opts: RunOptions) => runTask(fn, opts));
}

/** Submit one task in a session of its own, wait up to --timeout, print its result. */
async function runTask(fn: string, opts: RunOptions): Promise<void> {
  const args = await argumentOf(opts);
  const conn = await connect();
  const executor = executorFor(conn);
  try {
    const { taskId, result } = await submitOne(conn, executor, fn, args, opts);
    const outcome = await withinDeadline(result, Number(opts.timeout) * 1000);
    if (outcome === "timeout") {
      process.stderr.write(
        `ferry: no result for task ${taskId} after ${opts.timeout}s: is an agent running for this endpoint? (ferry endpoint status ${opts.endpoint}); the task stays queued: collect its result later with \`ferry results --session ${executor.sessionId}\`\n`,
      );
      process.exitCode = ExitCode.timeout;
      return;
    }
    await printResult(outcome, Boolean(opts.json), (r) => executor.value(r));
  } finally {
    await executor.close({ closeSession: true }).catch(() => undefined);
    conn.close();
  }
}

async function submitOne(
  conn: Connection,
  executor: Executor,
  fn: string,
  args: unknown,
  opts: RunOptions,
): Promise<TaskFuture> {
  const endpointId = await resolveEndpointId(conn.control, opts.endpoint);
  const future = await executor
    .submit(fn, args, { endpointId, topic: opts.topic, walltimeSeconds: Number(opts.walltime) })
    .catch(async (error: unknown) => {
      // An unknown function: say which registered names are close.
      if (error instanceof NotFoundError) await checkFunctionName(conn.control, fn);
      throw error;
    });
  // After the task is sent: a task refused at submit gets its one-line error alone.
  await warnIfNoAgent(conn.control, [endpointId]);
  return future;
}

/** The argument: --args JSON, `--args -` from stdin, or --args-file (no argv size limit). */
async function argumentOf(opts: { args: string; argsFile?: string }): Promise<unknown> {
  if (opts.argsFile !== undefined) {
    const body = await readFile(opts.argsFile, "utf8").catch((cause: unknown) => {
      throw new ConfigError(`--args-file ${opts.argsFile} cannot be read`, {
        cause,
        hint: "check the path",
      });
    });
    return parseJsonOption(body, "--args-file");
  }
  if (opts.args === "-") return parseJsonOption(await text(process.stdin), "--args -");
  return parseJsonOption(opts.args, "--args");
}

async function printResult(
  result: ResultMessage,
  json: boolean,
  decode: (r: ResultMessage) => Promise<unknown>,
): Promise<void> {
  // A large result came by reference: fetch it, so the user sees the value either way.
  const printed = await printable(result, decode);
  if (printed.ok) {
    const value = printed.value;
    emit(json, { ...result, value: { inline: value } }, () => JSON.stringify(value, null, 2));
    return;
  }
  if (json)
    emit(json, result.ok ? { ...result, ok: false, error: printed.error } : result, () => "");
  const tail = result.stderrTail ? `\n${result.stderrTail.trimEnd()}` : "";
  process.stderr.write(
    `ferry: task ${result.taskId} failed: ${printed.error.type}: ${printed.error.message}${json ? "" : tail}\n`,
  );
  process.exitCode = ExitCode.taskFailed;
}
