import type { ControlClient } from "#core/control/index.ts";
import { NotFoundError } from "#core/errors.ts";
import {
  forEachParkedPage,
  listJournals,
  readJournal,
  SessionJournal,
  type SessionSummary,
  stateOf,
} from "#sdk/index.ts";

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

/**
 * Results agents parked with the control plane for this session (its queue refused them, e.g.
 * after the session was closed), journaled and folded into `summary`. Asked only while some
 * task is pending. Returns how many were new.
 */
export async function collectParked(
  control: Pick<ControlClient, "call">,
  dir: string,
  summary: SessionSummary,
): Promise<number> {
  if (![...summary.tasks.values()].some((t) => t.state === "pending")) return 0;
  const journal = new SessionJournal(dir, summary.sessionId);
  let added = 0;
  try {
    await forEachParkedPage(control, summary.sessionId, undefined, async (results) => {
      const fresh = results.filter((r) => summary.tasks.get(r.taskId)?.state === "pending");
      await journal.append(fresh.map((result) => ({ kind: "result", result })));
      for (const r of fresh) {
        const task = summary.tasks.get(r.taskId);
        if (!task) continue;
        task.result = r;
        task.state = stateOf(r);
        added++;
      }
    });
  } finally {
    journal.close();
  }
  return added;
}
