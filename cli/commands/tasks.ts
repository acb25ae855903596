import type { Command } from "commander";
import { ConfigError } from "#core/errors.ts";
import { type JournalTask, journalDirOf, SessionJournal } from "#sdk/index.ts";
import { withConnection } from "../connection.ts";
import { emit, table } from "../output.ts";
import { collectParked, sessionOfTask, sessionOrLatest } from "../sessions.ts";

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
    .action(async (opts: { session?: string; json?: boolean }) => {
      await withConnection(async (conn) => {
        const dir = journalDirOf(conn);
        const summary = await sessionOrLatest(dir, opts.session);
        // Results agents parked because the session's queue was gone are results too.
        await collectParked(conn.control, dir, summary);
        // A pending task is running if an agent's heartbeat lists it, else still queued.
        const running = new Set<string>();
        const endpoints = new Set(
          [...summary.tasks.values()].filter((t) => t.state === "pending").map((t) => t.endpointId),
        );
        for (const endpointId of endpoints) {
          const view = await conn.control
            .call("describeEndpoint", { endpointId })
            .catch(() => undefined);
          for (const agent of view?.agents ?? [])
            for (const id of agent.runningTaskIds) running.add(id);
        }
        const state = (t: JournalTask) =>
          t.state === "pending" ? (running.has(t.taskId) ? "running" : "queued") : t.state;
        const tasks = [...summary.tasks.values()].map((t) => ({
          taskId: t.taskId,
          function: t.function.name,
          topic: t.topic,
          endpointId: t.endpointId,
          state: state(t),
          cancelRequested: t.cancelRequested,
          submittedAt: t.submittedAt,
          ...(t.result ? { error: t.result.ok ? undefined : t.result.error } : {}),
        }));
        emit(Boolean(opts.json), { sessionId: summary.sessionId, tasks }, () =>
          [
            `session ${summary.sessionId}${summary.closedAt ? " (closed)" : ""}: ${tasks.length} task(s)`,
            table(
              ["TASK ID", "FUNCTION", "TOPIC", "STATE", "AGE"],
              tasks.map((t) => [
                t.taskId,
                t.function,
                t.topic,
                t.cancelRequested && t.state !== "cancelled"
                  ? `${t.state} (cancel requested)`
                  : t.state,
                age(t.submittedAt),
              ]),
            ),
          ].join("\n"),
        );
      });
    });

  program
    .command("cancel <taskIds...>")
    .description(
      "cancel tasks: a queued task never runs, a running one is stopped; results say Cancelled",
    )
    .option("-s, --session <id>", "session id (default: found from the task ids)")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry cancel 01a230f8-93bc-74c5-a848-7135b2af5a92")
    .action(async (taskIds: string[], opts: { session?: string; json?: boolean }) => {
      await withConnection(async (conn) => {
        const dir = journalDirOf(conn);
        const first = taskIds[0] ?? "";
        const summary = opts.session
          ? await sessionOrLatest(dir, opts.session)
          : await sessionOfTask(dir, first);
        const unknown = taskIds.filter((id) => !summary.tasks.has(id));
        if (unknown.length > 0) {
          throw new ConfigError(
            `not tasks of session ${summary.sessionId}: ${unknown.join(", ")}`,
            {
              hint: "cancel tasks of one session at a time (ferry tasks --session <id>)",
            },
          );
        }
        // A task that already has its result is over: cancelling it changes nothing.
        const ended = taskIds.filter((id) => summary.tasks.get(id)?.state !== "pending");
        const pending = taskIds.filter((id) => !ended.includes(id));
        const { cancelled } =
          pending.length > 0
            ? await conn.control.call("cancelTasks", {
                sessionId: summary.sessionId,
                taskIds: pending,
              })
            : { cancelled: 0 };
        if (pending.length > 0) {
          await new SessionJournal(dir, summary.sessionId).append([
            { kind: "cancelRequested", taskIds: pending, at: Date.now() },
          ]);
        }
        const endedStates = ended.map((id) => ({
          taskId: id,
          state: summary.tasks.get(id)?.state,
        }));
        emit(
          Boolean(opts.json),
          { sessionId: summary.sessionId, cancelled, alreadyEnded: endedStates },
          () =>
            [
              ...endedStates.map(
                (e) => `task ${e.taskId} had already ended (${e.state}): not cancelled`,
              ),
              ...(pending.length > 0
                ? [`cancel requested for ${cancelled} task(s); their results will say Cancelled`]
                : []),
            ].join("\n"),
        );
      });
    });
}
