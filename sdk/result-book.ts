import { FerryError } from "#core/errors.ts";
import type { ResultMessage } from "#core/protocol/index.ts";
import { AsyncQueue } from "./async-queue.ts";

interface Waiter {
  resolve: (r: ResultMessage) => void;
  reject: (e: Error) => void;
  promise: Promise<ResultMessage>;
}

/**
 * A session's futures and results: one future per task, settled by its first result (delivery
 * is at least once: later copies are dropped here by task id), and every result once on the
 * stream, until close.
 */
export class ResultBook {
  readonly #waiters = new Map<string, Waiter>();
  readonly #done = new Map<string, ResultMessage>();
  readonly #stream = new AsyncQueue<ResultMessage>();

  /** The task's future, made on first ask. */
  future(taskId: string): Promise<ResultMessage> {
    const done = this.#done.get(taskId);
    if (done) return Promise.resolve(done);
    return this.#waiter(taskId).promise;
  }

  /** Record a result known from the journal, without surfacing it again. */
  known(result: ResultMessage): void {
    this.#done.set(result.taskId, result);
  }

  /** A reattached session's tasks: results its journal has are known, the rest get futures. */
  restore(tasks: Iterable<{ taskId: string; result?: ResultMessage }>): void {
    for (const task of tasks) {
      if (task.result) this.known(task.result);
      else void this.future(task.taskId);
    }
  }

  /** Tasks still waiting for a result. */
  pending(): string[] {
    return [...this.#waiters.keys()];
  }

  get size(): number {
    return this.#waiters.size;
  }

  stream(): AsyncIterable<ResultMessage> {
    return this.#stream;
  }

  /** The results not seen before, stamped with when they arrived; copies dropped. */
  fresh(results: readonly ResultMessage[]): ResultMessage[] {
    const fresh: ResultMessage[] = [];
    for (const result of results) {
      if (this.#done.has(result.taskId)) continue;
      result.timings.resultReceived = Date.now();
      this.#done.set(result.taskId, result);
      fresh.push(result);
    }
    return fresh;
  }

  /** Settle the task's future and put the result on the stream. */
  settle(result: ResultMessage): void {
    const waiter = this.#waiters.get(result.taskId);
    this.#waiters.delete(result.taskId);
    waiter?.resolve(result);
    this.#stream.push(result);
  }

  /** End the stream; futures still waiting reject. */
  close(): void {
    this.#stream.end();
    for (const waiter of this.#waiters.values())
      waiter.reject(new FerryError("executor closed before the result arrived"));
    this.#waiters.clear();
  }

  #waiter(taskId: string): Waiter {
    let waiter = this.#waiters.get(taskId);
    if (!waiter) {
      let resolve!: (r: ResultMessage) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<ResultMessage>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // A future nobody awaits must not crash the process when the executor closes.
      promise.catch(() => undefined);
      waiter = { resolve, reject, promise };
      this.#waiters.set(taskId, waiter);
    }
    return waiter;
  }
}
