import { cancellationCursor } from "#core/names.ts";
import type { ControlData } from "#core/protocol/index.ts";

/**
 * How far back each listing re-reads a session's cancellations: two registration Lambdas may
 * record at once, and the one with the earlier clock may finish writing last. A record whose
 * time is within this much of the newest one seen is still found.
 */
export const LATE_RECORD_MARGIN_MS = 60_000;

/** A session no task of which was checked or watched for this long is no longer listed. */
export const SESSION_IDLE_MS = 10 * 60_000;

/** A task and the session its message names: a cancellation counts only from that session. */
export interface TaskKey {
  taskId: string;
  sessionId: string;
}

interface SessionFeed {
  cancelled: Set<string>;
  /** The newest cancellation's time (the registration function's clock). */
  lastAtMs: number | undefined;
  /** Where the previous answer stopped, when it had more than one answer holds. */
  next: string | undefined;
  /** When the last listing that read everything up to then started (this host's clock). */
  coveredAt: number | undefined;
  usedAt: number;
}

type SessionAnswer = ControlData<"listCancellations">["sessions"][number];

/**
 * What the agent knows of its sessions' cancellations: per session the tasks found cancelled
 * and where the next listing starts. Pure state; CancellationWatcher makes the calls.
 */
export class CancellationFeed {
  readonly #sessions = new Map<string, SessionFeed>();

  /** Start listing a session (or keep listing it). */
  track(sessionId: string, nowMs: number): void {
    const feed = this.#sessions.get(sessionId);
    if (feed) feed.usedAt = nowMs;
    else {
      this.#sessions.set(sessionId, {
        cancelled: new Set(),
        lastAtMs: undefined,
        next: undefined,
        coveredAt: undefined,
        usedAt: nowMs,
      });
    }
  }

  isCancelled(task: TaskKey): boolean {
    return this.#sessions.get(task.sessionId)?.cancelled.has(task.taskId) ?? false;
  }

  /** Whether every one of these sessions was listed by a call that started at `sinceMs` or later. */
  coveredSince(sessionIds: Iterable<string>, sinceMs: number): boolean {
    for (const id of sessionIds) {
      const at = this.#sessions.get(id)?.coveredAt;
      if (at === undefined || at < sinceMs) return false;
    }
    return true;
  }

  /** The listing request for every tracked session, each from its cursor. */
  request(): { sessionId: string; after?: string }[] {
    return [...this.#sessions].map(([sessionId, feed]) => {
      const after = feed.next ?? cursorAt(feed.lastAtMs);
      return after === undefined ? { sessionId } : { sessionId, after };
    });
  }

  /** Whether some session's last answer said there is more to read. */
  get unfinished(): boolean {
    for (const feed of this.#sessions.values()) if (feed.next !== undefined) return true;
    return false;
  }

  /** Fold one call's answers in; `startedAt` is when that call was made. */
  apply(answers: readonly SessionAnswer[], startedAt: number): void {
    for (const answer of answers) {
      const feed = this.#sessions.get(answer.sessionId);
      if (!feed) continue;
      for (const id of answer.taskIds) feed.cancelled.add(id);
      if (answer.lastAtMs !== undefined) {
        feed.lastAtMs = Math.max(feed.lastAtMs ?? 0, answer.lastAtMs);
      }
      feed.next = answer.next;
      // Covered only once a listing read to the end: a partial one leaves later records unread.
      if (answer.next === undefined) feed.coveredAt = Math.max(feed.coveredAt ?? 0, startedAt);
    }
  }

  /** Forget sessions idle since before `nowMs - SESSION_IDLE_MS`, except those in `keep`. */
  prune(nowMs: number, keep: ReadonlySet<string>): void {
    for (const [id, feed] of this.#sessions) {
      if (!keep.has(id) && nowMs - feed.usedAt > SESSION_IDLE_MS) this.#sessions.delete(id);
    }
  }

  get size(): number {
    return this.#sessions.size;
  }
}

/** The listing cursor for records at or after `atMs - LATE_RECORD_MARGIN_MS`. */
function cursorAt(atMs: number | undefined): string | undefined {
  if (atMs === undefined) return undefined;
  return cancellationCursor(atMs - LATE_RECORD_MARGIN_MS);
}
