import type { Command } from "commander";
import type { Connection } from "#core/connect.ts";
import { ConfigError, NotFoundError } from "#core/errors.ts";
import { journalDirOf, type SessionSummary, stateOf } from "#sdk/index.ts";
import { withConnection } from "../connection.ts";
import { type FollowEnding, followTask } from "../log-follow.ts";
import { LogPrinter } from "../log-printer.ts";
import { ExitCode, emit } from "../output.ts";
import { sessionOfTask, sessionOrLatest } from "../sessions.ts";

interface LogsOptions {
  session?: string;
  follow?: boolean;
  timeout?: string;
  json?: boolean;
}

const EXAMPLE_ID = "01a230f8-93bc-74c5-a848-7135b2af5a92";

export function registerLogsCommand(program: Command): void {
  program
    .command("logs <taskId>")
    .description(
      "a finished task's stdout and stderr tails; with --follow, a running task's output as it comes, until it ends",
    )
    .option("-s, --session <id>", "session id (default: found from the task id)")
    .option(
      "-f, --follow",
      "keep printing the task's output until it ends; exit 1 if it failed, as `ferry run` does",
    )
    .option("--timeout <seconds>", "with --follow, stop following after this long (exit 124)")
    .option("--json", "machine-readable output (with --follow: one JSON line per piece of output)")
    .addHelpText(
      "after",
      `\nExamples:\n  ferry logs ${EXAMPLE_ID}\n  ferry logs --follow ${EXAMPLE_ID}\n  ferry logs -f ${EXAMPLE_ID} --timeout 600 > out.txt 2> err.txt`,
    )
    .action(async (taskId: string, opts: LogsOptions) => {
      await withConnection(async (conn) => {
        const dir = journalDirOf(conn);
        const summary = opts.session
          ? await sessionOrLatest(dir, opts.session)
          : await sessionOfTask(dir, taskId);
        if (opts.follow) await followLogs(conn, dir, summary, taskId, opts);
        else printTails(summary, taskId, Boolean(opts.json));
      });
    });
}

/** The tails that came with the task's result. */
function printTails(summary: SessionSummary, taskId: string, json: boolean): void {
  const result = summary.tasks.get(taskId)?.result;
  if (!result) {
    emit(
      json,
      { taskId, state: "pending" },
      () =>
        `task ${taskId} has no result yet: its logs come with its result, or watch it run with \`ferry logs --follow ${taskId}\``,
    );
    return;
  }
  const out = {
    taskId,
    stdoutTail: result.stdoutTail ?? "",
    stderrTail: result.stderrTail ?? "",
  };
  emit(json, out, () =>
    [
      `--- stdout (tail) ---`,
      out.stdoutTail.trimEnd(),
      `--- stderr (tail) ---`,
      out.stderrTail.trimEnd(),
    ].join("\n"),
  );
}

async function followLogs(
  conn: Connection,
  dir: string,
  summary: SessionSummary,
  taskId: string,
  opts: LogsOptions,
): Promise<void> {
  const task = summary.tasks.get(taskId);
  if (!task) {
    throw new NotFoundError(`task ${taskId} is not in session ${summary.sessionId}`, {
      hint: `see \`ferry tasks --session ${summary.sessionId}\``,
    });
  }
  const json = Boolean(opts.json);
  const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw new ConfigError(`--timeout ${opts.timeout} is not a positive number of seconds`);
  }
  if (!task.result && !json) {
    process.stderr.write(`ferry: following task ${taskId} until it ends (Ctrl-C stops)\n`);
  }
  const abort = new AbortController();
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => abort.abort(), timeoutMs);
  try {
    const printer = new LogPrinter(taskId, json);
    const ending = await followTask({ conn, dir, summary, taskId, printer, signal: abort.signal });
    reportEnding(taskId, ending, json, opts.timeout);
  } finally {
    clearTimeout(timer);
  }
}

/** How the task ended, and the exit code `ferry run` would give it: 1 when it failed. */
function reportEnding(taskId: string, ending: FollowEnding, json: boolean, timeout?: string) {
  if (ending.how === "aborted") {
    process.stderr.write(
      `ferry: task ${taskId} had not ended after ${timeout}s; follow it again with \`ferry logs --follow ${taskId}\`\n`,
    );
    process.exitCode = ExitCode.timeout;
    return;
  }
  const { ok, error } =
    ending.how === "result"
      ? { ok: ending.result.ok, error: ending.result.ok ? undefined : ending.result.error }
      : { ok: ending.record.ok ?? false, error: ending.record.error };
  const state =
    ending.how === "result"
      ? stateOf(ending.result)
      : ok
        ? "done"
        : error?.type === "Cancelled"
          ? "cancelled"
          : "failed";
  if (json) {
    const failure = error ? { error: { type: error.type, message: error.message } } : {};
    process.stdout.write(`${JSON.stringify({ taskId, state, ok, ...failure })}\n`);
  } else if (!ok) {
    const why = error ? `${error.type}: ${error.message}` : "no reason given";
    process.stderr.write(`ferry: task ${taskId} failed: ${why}\n`);
  }
  if (!ok) process.exitCode = ExitCode.taskFailed;
}
