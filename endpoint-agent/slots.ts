/** One unit of concurrency; on a GPU site each slot owns one GPU. */
export interface Slot {
  readonly index: number;
  readonly gpu: string | undefined;
}

/** Worker slots: the agent receives only as many messages as there are free slots. */
export class SlotPool {
  readonly #free: Slot[];
  readonly total: number;
  #waiters: Array<() => void> = [];

  constructor(options: { workers: number; gpuIds: readonly string[] }) {
    const count = options.gpuIds.length > 0 ? options.gpuIds.length : options.workers;
    this.total = count;
    this.#free = Array.from({ length: count }, (_, index) => ({
      index,
      gpu: options.gpuIds[index],
    }));
  }

  get free(): number {
    return this.#free.length;
  }

  get busy(): number {
    return this.total - this.#free.length;
  }

  /** A free slot, or undefined when all are busy. */
  tryAcquire(): Slot | undefined {
    return this.#free.shift();
  }

  release(slot: Slot): void {
    this.#free.push(slot);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when a slot is free or the signal aborts: the poller never spins while full. */
  waitForFree(signal: AbortSignal): Promise<void> {
    if (this.#free.length > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }
}
