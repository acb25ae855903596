import type { Command } from "commander";
import type { Connection } from "#core/connect.ts";
import { ConflictError } from "#core/errors.ts";
import { executorFor, journalDirOf, readJournal, type SessionSummary } from "#sdk/index.ts";
import { withConnection } from "../connection.ts";
import { ExitCode } from "../output.ts";
import { printable } from "../result-output.ts";
import { collectParked, sessionOrLatest } from "../sessions.ts";

/** Without --wait: stop listening once the queue has been quiet this long. */
const QUIET_MS = 3_000;

interface ResultsOptions {
  session?: string;
  wait?: boolean;
  timeout: string;
  close?: boolean;
}

export function registerResultsCommand(program: Command): void {
  program
    .command("results")
    .description(
      "collect a session's results (from its queue, and those agents parked after it closed) and print one JSON line each",
    )
    .option("-s, --session <id>", "session id (default: the most recent)")
    .option("--wait", "wait until every task of the session has its result")
    .option("--timeout <seconds>", "with --wait, stop waiting after this long", "3600")
    .option("--close", "close the session once every result is in")
    .addHelpText(
      "after",
      "\nExamples:\n  ferry results\n  ferry results --session 01a230f8-93ae-7173-b31a-7cea50521ec9 --wait --close > results.jsonl",
    )
    .action(async (opts: ResultsOptions) => {
      await withConnection(async (conn) => {
        const dir = journalDirOf(conn);
        let summary = await sessionOrLatest(dir, opts.session);
        await collectParked(conn.control, dir, summary);
        if (summary.closedAt === undefined && pendingOf(summary) > 0) {
          await collectFromQueue(conn, summary, opts);
          summary = (await readJournal(dir, summary.sessionId)) ?? summary;
        }
        await printAll(conn, summary);
      });
    });
}

const pendingOf = (s: SessionSummary) =>
  [...s.tasks.values()].filter((t) => t.state === "pending").length;

/** Reattach to the open session until its results are in, the queue is quiet, or time is up. */
async function collectFromQueue(
  conn: Connection,
  summary: SessionSummary,
  opts: ResultsOptions,
): Promise<void> {
  const executor = executorFor(conn);
  try {
    await executor.open(summary.sessionId);
  } catch (error) {
    // Closed elsewhere: what can still come was collected from the parked results.
    if (error instanceof ConflictError) return;
    throw error;
  }
  const deadline = Date.now() + Number(opts.timeout) * 1000;
  let lastAt = Date.now();
  const stream = executor.results()[Symbol.asyncIterator]();
  try {
    while (executor.pendingTaskIds().length > 0) {
      const waitMs = opts.wait ? deadline - Date.now() : QUIET_MS - (Date.now() - lastAt);
      if (waitMs <= 0) break;
      const next = await Promise.race([
        stream.next(),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), waitMs).unref()),
      ]);
      if (next?.done) break;
      if (next) lastAt = Date.now();
    }
  } finally {
    const pending = executor.pendingTaskIds().length;
    await executor.close({ closeSession: Boolean(opts.close) });
    if (opts.wait && pending > 0) process.exitCode = ExitCode.timeout;
  }
}

async function printAll(conn: Connection, summary: SessionSummary): Promise<void> {
  // Values are kept in the store: `ferry results` may be asked again.
  const reader = executorFor(conn);
  let failed = 0;
  for (const task of summary.tasks.values()) {
    if (!task.result) continue;
    const printed = await printable(task.result, (r) => reader.value(r, { keep: true }));
    if (!printed.ok) failed++;
    process.stdout.write(`${JSON.stringify(printed)}\n`);
  }
  const pending = pendingOf(summary);
  const done = summary.tasks.size - pending;
  process.stderr.write(
    `ferry: session ${summary.sessionId}${summary.closedAt === undefined ? "" : " (closed)"}: ${done} result(s), ${failed} failed, ${pending} pending\n`,
  );
  if (failed > 0 && process.exitCode === undefined) process.exitCode = ExitCode.taskFailed;
}
