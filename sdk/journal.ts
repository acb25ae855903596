import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { FunctionRef, ResultMessage, type SessionRecord, Uuid } from "#core/protocol/index.ts";

/**
 * A session's local journal: one JSON line per event, appended as it happens. It is what lets a
 * restarted client reattach to its session and know which results are still to come, and what
 * `ferry tasks` and `ferry logs` read. Results themselves wait in the session's queue.
 */
export const JournalEntry = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("opened"),
    sessionId: Uuid,
    resultQueueUrl: z.string(),
    /** The session's ownerId: where its tasks' live logs are (`tmp/<ownerId>/logs/`). */
    ownerId: z.string().max(256).optional(),
    at: z.number(),
  }),
  z.object({
    kind: z.literal("submitted"),
    taskId: Uuid,
    endpointId: Uuid,
    function: FunctionRef,
    topic: z.string(),
    at: z.number(),
    /**
     * The task message as it is sent, kept until a "sent" entry names the task: a client killed
     * between journaling and sending re-sends it on reattach instead of waiting forever.
     */
    message: z.string().optional(),
  }),
  /** The tasks' messages reached their queue. */
  z.object({ kind: z.literal("sent"), taskIds: z.array(Uuid), at: z.number() }),
  z.object({ kind: z.literal("result"), result: ResultMessage }),
  z.object({ kind: z.literal("cancelRequested"), taskIds: z.array(Uuid), at: z.number() }),
  z.object({ kind: z.literal("closed"), at: z.number() }),
]);
export type JournalEntry = z.infer<typeof JournalEntry>;

/** Where a journaled task stands: no result yet, or what its result says (see stateOf). */
export type TaskState = "pending" | "done" | "failed" | "cancelled";

/** One task as its session's journal records it (readJournal), as `ferry tasks` lists it. */
export interface JournalTask {
  taskId: string;
  /** The endpoint it was sent to. */
  endpointId: string;
  /** The function version it runs (name and content hash, resolved at submit). */
  function: FunctionRef;
  topic: string;
  /** When it was submitted, in ms since the epoch. */
  submittedAt: number;
  state: TaskState;
  /** Whether Executor.cancel was asked for it (its result may still say done). */
  cancelRequested: boolean;
  /** Its first result, once one was journaled; a value by reference is read with Executor.value. */
  result?: ResultMessage;
  /** The message of a task journaled but not known to be sent (journals before "sent": none). */
  unsentMessage?: string;
}

/** A session as its local journal tells it (readJournal): when it opened and closed, its tasks. */
export interface SessionSummary {
  sessionId: string;
  /** The session's result queue, where results wait until a client collects them. */
  resultQueueUrl: string;
  /** Absent in journals written before it was recorded, and for sessions without an owner id. */
  ownerId?: string;
  /** When the session was opened, in ms since the epoch. */
  openedAt: number;
  /** When this client closed the session; absent while it is open (or closed elsewhere). */
  closedAt?: number;
  /** Its tasks by task id, in submission order. */
  tasks: Map<string, JournalTask>;
}

export const journalPath = (dir: string, sessionId: string) => join(dir, `${sessionId}.jsonl`);

/**
 * The writer of one session's journal, `<dir>/<sessionId>.jsonl`: the Executor appends to it as
 * tasks are submitted, sent, answered and cancelled. Read one with readJournal.
 */
export class SessionJournal {
  /** The journal file. */
  readonly path: string;
  #fd: number | undefined;

  /** Nothing is written until the first append, which creates `dir` if needed. */
  constructor(dir: string, sessionId: string) {
    this.path = journalPath(dir, sessionId);
  }

  /**
   * Append the entries as lines. Written synchronously through one descriptor kept open: a
   * small write to the page cache takes microseconds, where an async append (open, write,
   * close on the thread pool) added a millisecond or more before every send and result.
   * Lines never interleave. The file survives the process dying (not a power cut: no fsync).
   */
  append(entries: JournalEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const text = `${entries.map((e) => JSON.stringify(e)).join("\n")}\n`;
    try {
      if (this.#fd === undefined) {
        mkdirSync(dirname(this.path), { recursive: true });
        this.#fd = openSync(this.path, "a");
      }
      writeSync(this.#fd, text);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Close the descriptor (appending again reopens it). */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/**
 * Fold a journal file into its session's tasks; a torn last line (a crash) is skipped.
 * @returns undefined when the session has no journal in `dir`
 */
export async function readJournal(
  dir: string,
  sessionId: string,
): Promise<SessionSummary | undefined> {
  let text: string;
  try {
    text = await readFile(journalPath(dir, sessionId), "utf8");
  } catch {
    return undefined;
  }
  let summary: SessionSummary | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const parsed = JournalEntry.safeParse(safeJson(line));
    if (!parsed.success) continue;
    const e = parsed.data;
    // Entries before the "opened" one have no session to belong to.
    if (e.kind === "opened") summary ??= openedSummary(e);
    else if (summary) applyEntry(summary, e);
  }
  return summary;
}

type EntryOf<K extends JournalEntry["kind"]> = Extract<JournalEntry, { kind: K }>;

function openedSummary(e: EntryOf<"opened">): SessionSummary {
  return {
    sessionId: e.sessionId,
    resultQueueUrl: e.resultQueueUrl,
    ...(e.ownerId === undefined ? {} : { ownerId: e.ownerId }),
    openedAt: e.at,
    tasks: new Map(),
  };
}

/** One entry after "opened", folded into the summary; a task's first result is the one kept. */
function applyEntry(summary: SessionSummary, e: Exclude<JournalEntry, EntryOf<"opened">>): void {
  if (e.kind === "submitted") {
    summary.tasks.set(e.taskId, {
      taskId: e.taskId,
      endpointId: e.endpointId,
      function: e.function,
      topic: e.topic,
      submittedAt: e.at,
      state: "pending",
      cancelRequested: false,
      ...(e.message === undefined ? {} : { unsentMessage: e.message }),
    });
  } else if (e.kind === "sent") {
    for (const id of e.taskIds) {
      const task = summary.tasks.get(id);
      if (task) delete task.unsentMessage;
    }
  } else if (e.kind === "result") {
    const task = summary.tasks.get(e.result.taskId);
    if (task && task.state === "pending") {
      task.result = e.result;
      task.state = stateOf(e.result);
    }
  } else if (e.kind === "cancelRequested") {
    for (const id of e.taskIds) {
      const task = summary.tasks.get(id);
      if (task) task.cancelRequested = true;
    }
  } else {
    summary.closedAt = e.at;
  }
}

/** The journal's first entry: the session and where its results and logs are. */
export function openedEntry(session: SessionRecord): JournalEntry {
  return {
    kind: "opened",
    sessionId: session.sessionId,
    resultQueueUrl: session.resultQueueUrl,
    ...(session.ownerId === undefined ? {} : { ownerId: session.ownerId }),
    at: Date.now(),
  };
}

/** The state a result puts its task in: `done` if ok, else `cancelled` or `failed`. */
export function stateOf(result: ResultMessage): TaskState {
  if (result.ok) return "done";
  return result.error.type === "Cancelled" ? "cancelled" : "failed";
}

/** Session ids with a journal in `dir`, newest first (UUIDv7 sorts by time). */
export async function listJournals(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => n.endsWith(".jsonl"))
    .map((n) => n.slice(0, -".jsonl".length))
    .sort()
    .reverse();
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
