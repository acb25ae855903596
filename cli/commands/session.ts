import type { Command } from "commander";
import type { Connection } from "#core/connect.ts";
import { ConfigError } from "#core/errors.ts";
import { journalDirOf, listJournals, readJournal, SessionJournal } from "#sdk/index.ts";
import { withConnection } from "../connection.ts";
import { emit, table } from "../output.ts";

interface JsonOption {
  json?: boolean;
}

/** One session as `ferry session list` shows it, from this machine's journal. */
interface SessionRow {
  sessionId: string;
  openedAt: number;
  closed: boolean;
  tasks: number;
  pending: number;
  failed: number;
}

export function registerSessionCommands(program: Command): void {
  const session = program.command("session").description("sessions: each has its own result queue");
  session
    .command("list")
    .description("sessions started from this machine, newest first")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry session list")
    .action((opts: JsonOption) => withConnection((conn) => listSessions(conn, opts)));
  session
    .command("close <sessionId>")
    .description(
      "delete the session's result queue; results still to come are parked for `ferry results`",
    )
    .option("--force", "close it even though this machine's journal shows pending tasks")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry session close 01a230f8-93ae-7173-b31a-7cea50521ec9")
    .action((sessionId: string, opts: JsonOption & { force?: boolean }) =>
      withConnection((conn) => closeSession(conn, sessionId, opts)),
    );
}

async function listSessions(conn: Connection, opts: JsonOption): Promise<void> {
  const rows = await sessionRows(journalDirOf(conn));
  emit(Boolean(opts.json), rows, () =>
    rows.length === 0
      ? "no sessions yet"
      : table(
          ["SESSION ID", "OPENED", "STATE", "TASKS", "PENDING", "FAILED"],
          rows.map((r) => [
            r.sessionId,
            new Date(r.openedAt).toISOString(),
            r.closed ? "closed" : "open",
            String(r.tasks),
            String(r.pending),
            String(r.failed),
          ]),
        ),
  );
}

/** The newest 100 journals in `dir`, each summed up. */
async function sessionRows(dir: string): Promise<SessionRow[]> {
  const rows: SessionRow[] = [];
  for (const id of (await listJournals(dir)).slice(0, 100)) {
    const s = await readJournal(dir, id);
    if (!s) continue;
    const tasks = [...s.tasks.values()];
    rows.push({
      sessionId: s.sessionId,
      openedAt: s.openedAt,
      closed: s.closedAt !== undefined,
      tasks: tasks.length,
      pending: tasks.filter((t) => t.state === "pending").length,
      failed: tasks.filter((t) => t.state === "failed").length,
    });
  }
  return rows;
}

/** Refused while this machine's journal shows tasks without a result, unless --force. */
async function closeSession(
  conn: Connection,
  sessionId: string,
  opts: JsonOption & { force?: boolean },
): Promise<void> {
  const dir = journalDirOf(conn);
  const journal = await readJournal(dir, sessionId);
  const pending = [...(journal?.tasks.values() ?? [])].filter((t) => t.state === "pending");
  if (pending.length > 0 && !opts.force) {
    throw new ConfigError(`session ${sessionId} has ${pending.length} task(s) without a result`, {
      hint: "collect them first (`ferry results --session <id> --wait`), or pass --force (their results are then parked, and `ferry results` still finds them)",
    });
  }
  const { session: record } = await conn.control.call("closeSession", { sessionId });
  if (journal)
    await new SessionJournal(dir, sessionId).append([{ kind: "closed", at: Date.now() }]);
  emit(Boolean(opts.json), record, () => `session ${sessionId} closed`);
}
