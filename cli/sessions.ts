import { NotFoundError } from "#core/errors.ts";
import { listJournals, readJournal, type SessionSummary } from "./sdk/index.ts";

/** How many recent sessions to search when a task id is given without its session. */
const SEARCH_SESSIONS = 200;

/** The named session, or the most recent one, from the local journals. */
export async function sessionOrLatest(dir: string, sessionId?: string): Promise<SessionSummary> {
  const id = sessionId ?? (await listJournals(dir))[0];
  const summary = id ? await readJournal(dir, id) : undefined;
  if (!summary) {
    throw new NotFoundError(
      sessionId ? `no journal for session ${sessionId} here` : "no sessions yet",
      {
        hint: sessionId
          ? "see `ferry session list`"
          : "submit tasks with `ferry run` or `ferry submit` first",
      },
    );
  }
  return summary;
}

/** The session whose journal holds this task. */
export async function sessionOfTask(dir: string, taskId: string): Promise<SessionSummary> {
  for (const id of (await listJournals(dir)).slice(0, SEARCH_SESSIONS)) {
    const summary = await readJournal(dir, id);
    if (summary?.tasks.has(taskId)) return summary;
  }
  throw new NotFoundError(`task ${taskId} is not in any recent session on this machine`, {
    hint: "give --session <id>, or see `ferry tasks`",
  });
}
