import type { Command } from "commander";
import type { Connection } from "#core/connect.ts";
import { ConfigError } from "#core/errors.ts";
import {
  type JournalTask,
  journalDirOf,
  SessionJournal,
  type SessionSummary,
  type TaskError,
} from "#sdk/index.ts";
import { withConnection } from "../connection.ts";
import { emit, table } from "../output.ts";
import { collectParked, sessionOfTask, sessionOrLatest } from "../sessions.ts";

interface SessionOptions {
  session?: string;
  json?: boolean;
}

/** One task as `ferry tasks` shows it: the journal's state, with running told from queued. */
interface TaskRow {
  taskId: string;
  function: string;
  topic: string;
  endpointId: string;
  state: string;
  cancelRequested: boolean;
  submittedAt: number;
  error?: TaskError | undefined;
}

const age = (at: number) => `${Math.max(0, Math.round((Date.now() - at) / 1000))}s`;

export function registerTaskCommands(program: Command): void {
  program
    .command("tasks")
    .description("a session's tasks and their states (queued, running, done, failed, cancelled)")
    .option("-s, --session <id>", "session id (default: the most recent)")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  ferry tasks\n  ferry tasks --session 01a230f8-93ae-7173-b31a-7cea50521ec9 --json",
    )
    .action((opts: SessionOptions) => withConnection((conn) => listTasks(conn, opts)));

  program
    .command("cancel <taskIds...>")
    .description(
      "cancel tasks: a queued task never runs, a running one is stopped; results say Cancelled",
    )
    .option("-s, --session <id>", "session id (default: found from the task ids)")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry cancel 01a230f8-93bc-74c5-a848-7135b2af5a92")
    .action((taskIds: string[], opts: SessionOptions) =>
      withConnection((conn) => cancelTasks(conn, taskIds, opts)),
    );
}

async function listTasks(conn: Connection, opts: SessionOptions): Promise<void> {
  const dir = journalDirOf(conn);
  const summary = await sessionOrLatest(dir, opts.session);
  // Results agents parked because the session's queue was gone are results too.
  await collectParked(conn.control, dir, summary);
  const running = await runningTaskIds(conn, summary);
  const tasks = [...summary.tasks.values()].map((t) => taskRow(t, running));
  emit(Boolean(opts.json), { sessionId: summary.sessionId, tasks }, () =>
    renderTasks(summary, tasks),
  );
}

/** A pending task is running if an agent's heartbeat lists it, else still queued. */
async function runningTaskIds(conn: Connection, summary: SessionSummary): Promise<Set<string>> {
  const running = new Set<string>();
  const endpoints = new Set(
    [...summary.tasks.values()].filter((t) => t.state === "pending").map((t) => t.endpointId),
  );
  for (const endpointId of endpoints) {
    const view = await conn.control.call("describeEndpoint", { endpointId }).catch(() => undefined);
    for (const agent of view?.agents ?? []) for (const id of agent.runningTaskIds) running.add(id);
  }
  return running;
}

function taskRow(t: JournalTask, running: ReadonlySet<string>): TaskRow {
  const state = t.state === "pending" ? (running.has(t.taskId) ? "running" : "queued") : t.state;
  return {
    taskId: t.taskId,
    function: t.function.name,
    topic: t.topic,
    endpointId: t.endpointId,
    state,
    cancelRequested: t.cancelRequested,
    submittedAt: t.submittedAt,
    ...(t.result ? { error: t.result.ok ? undefined : t.result.error } : {}),
  };
}

function renderTasks(summary: SessionSummary, tasks: readonly TaskRow[]): string {
  return [
    `session ${summary.sessionId}${summary.closedAt ? " (closed)" : ""}: ${tasks.length} task(s)`,
    table(
      ["TASK ID", "FUNCTION", "TOPIC", "STATE", "AGE"],
      tasks.map((t) => [
        t.taskId,
        t.function,
        t.topic,
        t.cancelRequested && t.state !== "cancelled" ? `${t.state} (cancel requested)` : t.state,
        age(t.submittedAt),
      ]),
    ),
  ].join("\n");
}

async function cancelTasks(
  conn: Connection,
  taskIds: string[],
  opts: SessionOptions,
): Promise<void> {
  const dir = journalDirOf(conn);
  const summary = await sessionOfAll(dir, taskIds, opts.session);
  // A task that already has its result is over: cancelling it changes nothing.
  const ended = taskIds.filter((id) => summary.tasks.get(id)?.state !== "pending");
  const pending = taskIds.filter((id) => !ended.includes(id));
  const cancelled = await requestCancel(conn, dir, summary.sessionId, pending);
  const endedStates = ended.map((id) => ({ taskId: id, state: summary.tasks.get(id)?.state }));
  emit(
    Boolean(opts.json),
    { sessionId: summary.sessionId, cancelled, alreadyEnded: endedStates },
    () =>
      [
        ...endedStates.map((e) => `task ${e.taskId} had already ended (${e.state}): not cancelled`),
        ...(pending.length > 0
          ? [`cancel requested for ${cancelled} task(s); their results will say Cancelled`]
          : []),
      ].join("\n"),
  );
}

/** The session the tasks belong to (--session, else the first task's); all must be in it. */
async function sessionOfAll(
  dir: string,
  taskIds: readonly string[],
  sessionId: string | undefined,
): Promise<SessionSummary> {
  const summary = sessionId
    ? await sessionOrLatest(dir, sessionId)
    : await sessionOfTask(dir, taskIds[0] ?? "");
  const unknown = taskIds.filter((id) => !summary.tasks.has(id));
  if (unknown.length > 0) {
    throw new ConfigError(`not tasks of session ${summary.sessionId}: ${unknown.join(", ")}`, {
      hint: "cancel tasks of one session at a time (ferry tasks --session <id>)",
    });
  }
  return summary;
}

/** Ask the deployment to cancel the pending tasks and journal the request; how many it took. */
async function requestCancel(
  conn: Connection,
  dir: string,
  sessionId: string,
  pending: string[],
): Promise<number> {
  if (pending.length === 0) return 0;
  const { cancelled } = await conn.control.call("cancelTasks", { sessionId, taskIds: pending });
  await new SessionJournal(dir, sessionId).append([
    { kind: "cancelRequested", taskIds: pending, at: Date.now() },
  ]);
  return cancelled;
}
