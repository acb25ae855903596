import { nextDelayMs } from "#core/backoff.ts";
import type { ControlClient } from "#core/control/client.ts";
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
  /** Task id -> its watches (a duplicate delivery may run the same task twice here). */
  readonly #watched = new Map<string, Set<AbortController>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Consecutive failed checks: the periodic check backs off (a throttled control plane). */
  #failures = 0;
  /** The check calls in flight. */
  readonly #inFlight = new Set<Promise<ReadonlySet<string>>>();
  /** Ids waiting for the call after the one in flight, and that call's answer. */
  #next: { ids: Set<string>; result: Promise<ReadonlySet<string>> } | undefined;

  constructor(options: CancellationWatcherOptions) {
    this.#o = options;
  }

  /**
   * The ids among `taskIds` that are cancelled; never throws. At most one call is in flight:
   * checks asked for meanwhile wait for it and then share one call (each agent slot receiving
   * its own message would otherwise make one control call per task). Every id is still checked
   * by a call made after it was asked for.
   */
  async check(taskIds: readonly string[]): Promise<ReadonlySet<string>> {
    // One malformed id would make the whole request a BadRequest; such a task is refused later.
    const ids = [...new Set(taskIds)].filter((id) => Uuid.safeParse(id).success);
    if (ids.length === 0) return new Set();
    const cancelled = await this.#join(ids);
    return new Set(ids.filter((id) => cancelled.has(id)));
  }

  #join(ids: readonly string[]): Promise<ReadonlySet<string>> {
    if (this.#inFlight.size < (this.#o.maxChecksInFlight ?? 4)) return this.#start(ids);
    if (!this.#next) {
      const next = { ids: new Set<string>(), result: Promise.resolve(NONE) };
      // The first call to finish frees a place (its own cleanup runs before this).
      next.result = Promise.race(this.#inFlight).then(() => {
        this.#next = undefined;
        return this.#start([...next.ids]);
      });
      this.#next = next;
    }
    for (const id of ids) this.#next.ids.add(id);
    return this.#next.result;
  }

  #start(ids: readonly string[]): Promise<ReadonlySet<string>> {
    const call = this.#ask(ids);
    this.#inFlight.add(call);
    void call.finally(() => this.#inFlight.delete(call));
    return call;
  }

  async #ask(ids: readonly string[]): Promise<ReadonlySet<string>> {
    const cancelled = new Set<string>();
    try {
      for (let i = 0; i < ids.length; i += MAX_CANCELLATION_IDS) {
        const out = await this.#o.control.call(
          "checkCancellations",
          { taskIds: ids.slice(i, i + MAX_CANCELLATION_IDS) },
          { signal: AbortSignal.any([this.#o.signal, AbortSignal.timeout(CHECK_TIMEOUT_MS)]) },
        );
        for (const id of out.cancelled) cancelled.add(id);
      }
      this.#failures = 0;
    } catch (err) {
      this.#failures++;
      if (!this.#o.signal.aborted) {
        this.#o.logger.warn(
          { err, tasks: ids.length },
          "cannot check for cancelled tasks; will check again",
        );
      }
    }
    return cancelled;
  }

  watch(taskId: string): Watch {
    const controller = new AbortController();
    let watches = this.#watched.get(taskId);
    if (!watches) {
      watches = new Set();
      this.#watched.set(taskId, watches);
    }
    watches.add(controller);
    return {
      signal: controller.signal,
      stop: () => {
        watches.delete(controller);
        if (watches.size === 0 && this.#watched.get(taskId) === watches) {
          this.#watched.delete(taskId);
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
    const cancelled = await this.check([...this.#watched.keys()]);
    for (const taskId of cancelled) {
      const watches = this.#watched.get(taskId);
      if (!watches) continue;
      this.#o.logger.info({ taskId }, "task cancelled by its client: stopping it");
      for (const controller of watches) controller.abort();
    }
  }
}

const NONE: ReadonlySet<string> = new Set();
