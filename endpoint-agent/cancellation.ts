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
 * start, and every interval for every task in flight, in one call for all of them. A failed
 * check is logged and counts as "none cancelled": the next interval asks again, and a task
 * never fails because of it.
 */
export class CancellationWatcher {
  readonly #o: CancellationWatcherOptions;
  /** Task id -> its watches (a duplicate delivery may run the same task twice here). */
  readonly #watched = new Map<string, Set<AbortController>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: CancellationWatcherOptions) {
    this.#o = options;
  }

  /** The ids among `taskIds` that are cancelled; never throws. */
  async check(taskIds: readonly string[]): Promise<ReadonlySet<string>> {
    // One malformed id would make the whole request a BadRequest; such a task is refused later.
    const ids = [...new Set(taskIds)].filter((id) => Uuid.safeParse(id).success);
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
    } catch (err) {
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
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.intervalMs);
    };
    this.#timer = setTimeout(tick, this.#o.intervalMs);
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
