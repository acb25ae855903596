import { nextDelayMs } from "#core/backoff.ts";
import type { ControlClient } from "#core/control/index.ts";
import type { Logger } from "#core/logger.ts";
import { MAX_CANCELLATION_IDS, Uuid } from "#core/protocol/index.ts";

/**
 * Longest wait for one check. A receive batch waits for its check before running, and its
 * messages' first visibility is 10 s: a slow control plane must not make them come back.
 */
const CHECK_TIMEOUT_MS = 5_000;

export interface CancellationWatcherOptions {
  control: Pick<ControlClient, "call">;
  /** Time between checks of the watched tasks. */
  intervalMs: number;
  /**
   * Check calls in flight at once; checks asked for beyond that share the next call. One
   * alone capped a busy agent at one receive batch per control-plane round trip.
   * @default 4
   */
  maxChecksInFlight?: number;
  signal: AbortSignal;
  logger: Logger;
}

/** A watched task: its signal aborts when the task is found cancelled. */
export interface Watch {
  readonly signal: AbortSignal;
  /** Stop watching (the task is over). */
  stop(): void;
}

/**
 * Asks the control plane which tasks are cancelled: once per receive batch before the tasks
 * start (up to maxChecksInFlight calls at once, the rest sharing the next), and every
 * interval for every task in flight, in one call for all of them. A failed
 * check is logged and counts as "none cancelled": the next interval asks again, and a task
 * never fails because of it.
 */
export class CancellationWatcher {
  readonly #o: CancellationWatcherOptions;
  /** Session/task -> its watches (a duplicate delivery may run the same task twice here). */
  readonly #watched = new Map<string, { task: TaskKey; controllers: Set<AbortController> }>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Consecutive failed checks: the periodic check backs off (a throttled control plane). */
  #failures = 0;
  /** The check calls in flight. */
  readonly #inFlight = new Set<Promise<ReadonlySet<string>>>();
  /** Ids waiting for the call after the one in flight, and that call's answer. */
  #next: { tasks: Map<string, TaskKey>; result: Promise<ReadonlySet<string>> } | undefined;

  constructor(options: CancellationWatcherOptions) {
    this.#o = options;
  }

  /**
   * The ids among `tasks` that are cancelled (by the session each names); never throws. At most
   * maxChecksInFlight calls are in flight: checks asked for meanwhile wait and then share one
   * call (each agent slot receiving its own message would otherwise make one control call per
   * task). Every task is still checked by a call made after it was asked for.
   */
  async check(tasks: readonly TaskKey[]): Promise<ReadonlySet<string>> {
    // One malformed id would make the whole request a BadRequest; such a task is refused later.
    const valid = tasks.filter(
      (t) => Uuid.safeParse(t.taskId).success && Uuid.safeParse(t.sessionId).success,
    );
    const unique = [...new Map(valid.map((t) => [keyOf(t), t])).values()];
    if (unique.length === 0) return new Set();
    const cancelled = await this.#join(unique);
    return new Set(unique.filter((t) => cancelled.has(t.taskId)).map((t) => t.taskId));
  }

  #join(tasks: readonly TaskKey[]): Promise<ReadonlySet<string>> {
    if (this.#inFlight.size < (this.#o.maxChecksInFlight ?? 4)) return this.#start(tasks);
    if (!this.#next) {
      const next = { tasks: new Map<string, TaskKey>(), result: Promise.resolve(NONE) };
      // The first call to finish frees a place (its own cleanup runs before this).
      next.result = Promise.race(this.#inFlight).then(() => {
        this.#next = undefined;
        return this.#start([...next.tasks.values()]);
      });
      this.#next = next;
    }
    for (const t of tasks) this.#next.tasks.set(keyOf(t), t);
    return this.#next.result;
  }

  #start(tasks: readonly TaskKey[]): Promise<ReadonlySet<string>> {
    const call = this.#ask(tasks);
    this.#inFlight.add(call);
    void call.finally(() => this.#inFlight.delete(call));
    return call;
  }

  async #ask(tasks: readonly TaskKey[]): Promise<ReadonlySet<string>> {
    const cancelled = new Set<string>();
    try {
      for (let i = 0; i < tasks.length; i += MAX_CANCELLATION_IDS) {
        const out = await this.#o.control.call(
          "checkCancellations",
          { tasks: tasks.slice(i, i + MAX_CANCELLATION_IDS) },
          { signal: AbortSignal.any([this.#o.signal, AbortSignal.timeout(CHECK_TIMEOUT_MS)]) },
        );
        for (const id of out.cancelled) cancelled.add(id);
      }
      this.#failures = 0;
    } catch (err) {
      this.#failures++;
      if (!this.#o.signal.aborted) {
        this.#o.logger.warn(
          { err, tasks: tasks.length },
          "cannot check for cancelled tasks; will check again",
        );
      }
    }
    return cancelled;
  }

  watch(task: TaskKey): Watch {
    const controller = new AbortController();
    const key = keyOf(task);
    let watched = this.#watched.get(key);
    if (!watched) {
      watched = { task, controllers: new Set() };
      this.#watched.set(key, watched);
    }
    const entry = watched;
    entry.controllers.add(controller);
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
      await this.#checkWatched();
      if (!this.#stopped)
        this.#timer = setTimeout(tick, nextDelayMs(this.#o.intervalMs, this.#failures));
    };
    this.#timer = setTimeout(tick, nextDelayMs(this.#o.intervalMs, 0));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #checkWatched(): Promise<void> {
    // Idle: no call at all.
    if (this.#watched.size === 0) return;
    const cancelled = await this.check([...this.#watched.values()].map((w) => w.task));
    for (const { task, controllers } of this.#watched.values()) {
      if (!cancelled.has(task.taskId)) continue;
      this.#o.logger.info({ taskId: task.taskId }, "task cancelled by its client: stopping it");
      for (const controller of controllers) controller.abort();
    }
  }
}

const NONE: ReadonlySet<string> = new Set();

/**
 * A task and the session its message names: a cancellation counts only when that session
 * asked for it (the control plane lets only a session's owner cancel its tasks).
 */
export interface TaskKey {
  taskId: string;
  sessionId: string;
}

const keyOf = (t: TaskKey) => `${t.sessionId}/${t.taskId}`;
