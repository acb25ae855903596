import { nextDelayMs } from "#core/backoff.ts";
import type { ControlClient } from "#core/control/index.ts";
import type { Logger } from "#core/logger.ts";
import { MAX_CANCELLATION_SESSIONS, Uuid } from "#core/protocol/index.ts";
import { CancellationFeed, type TaskKey } from "./cancellation-feed.ts";
import { FRESH_MESSAGE_MS } from "./received.ts";

export type { TaskKey } from "./cancellation-feed.ts";

/**
 * Longest wait for one listing. A receive batch waits for it before running, and its
 * messages' first visibility is 10 s: a slow control plane must not make them come back.
 */
const CHECK_TIMEOUT_MS = 5_000;
/** After a failed listing, checks answer from what is known for about this long (backing off). */
const RETRY_BASE_MS = 1_000;
/** Calls per listing when sessions have more cancellations than one answer holds. */
const MAX_ROUNDS = 20;

export interface CancellationWatcherOptions {
  control: Pick<ControlClient, "call">;
  /** Time between listings while tasks run. */
  intervalMs: number;
  signal: AbortSignal;
  logger: Logger;
}

/** A watched task: its signal aborts when the task is found cancelled. */
export interface Watch {
  readonly signal: AbortSignal;
  /** Stop watching (the task is over). */
  stop(): void;
}

interface Listing {
  startedAt: number;
  sessions: ReadonlySet<string>;
  done: Promise<void>;
}

/**
 * Learns which tasks are cancelled by listing, in one control call, every cancellation of the
 * sessions this agent holds tasks of since the last listing: the call does not grow with the
 * tasks received, and a busy agent makes about one a second, not one per receive batch.
 *
 * Before tasks start, `check` answers from a listing that started at most FRESH_MESSAGE_MS
 * before it was asked (waiting for one only when the last is older); a cancel recorded in that
 * last second is caught by the next listing, which runs every interval while tasks run, and
 * stops the task. A failed listing is logged and counts as "none cancelled"; listings then
 * back off, and a task never fails because of one.
 */
export class CancellationWatcher {
  readonly #o: CancellationWatcherOptions;
  readonly #feed = new CancellationFeed();
  /** Session/task -> its watches (a duplicate delivery may run the same task twice here). */
  readonly #watched = new Map<string, { task: TaskKey; controllers: Set<AbortController> }>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Consecutive failed listings: the next one waits (a throttled control plane). */
  #failures = 0;
  #retryAt = 0;
  #listing: Listing | undefined;
  #queued: Promise<void> | undefined;

  constructor(options: CancellationWatcherOptions) {
    this.#o = options;
  }

  /** The ids among `tasks` that are cancelled (by the session each names); never throws. */
  async check(tasks: readonly TaskKey[]): Promise<ReadonlySet<string>> {
    // One malformed id would make the whole request a BadRequest; such a task is refused later.
    const valid = tasks.filter(
      (t) => Uuid.safeParse(t.taskId).success && Uuid.safeParse(t.sessionId).success,
    );
    if (valid.length === 0) return NONE;
    const now = Date.now();
    const sessions = new Set(valid.map((t) => t.sessionId));
    for (const id of sessions) this.#feed.track(id, now);
    const since = now - FRESH_MESSAGE_MS;
    if (!this.#feed.coveredSince(sessions, since) && now >= this.#retryAt) {
      await this.#listingCovering(sessions, since);
    }
    return new Set(valid.filter((t) => this.#feed.isCancelled(t)).map((t) => t.taskId));
  }

  /** A listing of these sessions that starts at `since` or later: the one in flight, or next. */
  #listingCovering(sessions: ReadonlySet<string>, since: number): Promise<void> {
    const current = this.#listing;
    if (!current) return this.#list().done;
    if (current.startedAt >= since && [...sessions].every((s) => current.sessions.has(s))) {
      return current.done;
    }
    this.#queued ??= current.done.then(() => {
      this.#queued = undefined;
      return this.#list().done;
    });
    return this.#queued;
  }

  #list(): Listing {
    const startedAt = Date.now();
    this.#feed.prune(startedAt, this.#watchedSessions());
    const listing: Listing = {
      startedAt,
      sessions: new Set(this.#feed.request().map((r) => r.sessionId)),
      done: Promise.resolve(),
    };
    listing.done = this.#rounds(startedAt).finally(() => {
      if (this.#listing === listing) this.#listing = undefined;
      this.#abortCancelled();
    });
    this.#listing = listing;
    return listing;
  }

  async #rounds(startedAt: number): Promise<void> {
    const signal = AbortSignal.any([this.#o.signal, AbortSignal.timeout(CHECK_TIMEOUT_MS)]);
    try {
      let round = 0;
      do {
        const request = this.#feed.request();
        for (let i = 0; i < request.length; i += MAX_CANCELLATION_SESSIONS) {
          const sessions = request.slice(i, i + MAX_CANCELLATION_SESSIONS);
          const out = await this.#o.control.call("listCancellations", { sessions }, { signal });
          this.#feed.apply(out.sessions, startedAt);
        }
      } while (this.#feed.unfinished && ++round < MAX_ROUNDS);
      this.#failures = 0;
      this.#retryAt = 0;
    } catch (err) {
      this.#failures++;
      this.#retryAt = Date.now() + nextDelayMs(RETRY_BASE_MS, this.#failures);
      if (!this.#o.signal.aborted) {
        this.#o.logger.warn(
          { err, sessions: this.#feed.size },
          "cannot list cancelled tasks; will list again",
        );
      }
    }
  }

  watch(task: TaskKey): Watch {
    const controller = new AbortController();
    const key = keyOf(task);
    this.#feed.track(task.sessionId, Date.now());
    let watched = this.#watched.get(key);
    if (!watched) {
      watched = { task, controllers: new Set() };
      this.#watched.set(key, watched);
    }
    const entry = watched;
    entry.controllers.add(controller);
    // Found cancelled by an earlier listing (a task re-delivered while its first copy ran).
    if (this.#feed.isCancelled(task)) controller.abort();
    return {
      signal: controller.signal,
      stop: () => {
        entry.controllers.delete(controller);
        if (entry.controllers.size === 0 && this.#watched.get(key) === entry) {
          this.#watched.delete(key);
        }
      },
    };
  }

  start(): void {
    const tick = async () => {
      // Idle: no call at all.
      if (this.#watched.size > 0 && !this.#listing) await this.#list().done;
      if (!this.#stopped)
        this.#timer = setTimeout(tick, nextDelayMs(this.#o.intervalMs, this.#failures));
    };
    this.#timer = setTimeout(tick, nextDelayMs(this.#o.intervalMs, 0));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #watchedSessions(): Set<string> {
    return new Set([...this.#watched.values()].map((w) => w.task.sessionId));
  }

  /** Stop every watched task found cancelled. */
  #abortCancelled(): void {
    for (const { task, controllers } of this.#watched.values()) {
      if (!this.#feed.isCancelled(task)) continue;
      const running = [...controllers].filter((c) => !c.signal.aborted);
      if (running.length === 0) continue;
      this.#o.logger.info({ taskId: task.taskId }, "task cancelled by its client: stopping it");
      for (const controller of running) controller.abort();
    }
  }
}

const NONE: ReadonlySet<string> = new Set();

const keyOf = (t: TaskKey) => `${t.sessionId}/${t.taskId}`;
