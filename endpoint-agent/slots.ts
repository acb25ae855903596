/** One unit of concurrency; on a GPU site each slot owns one GPU. */
export interface Slot {
  readonly index: number;
  readonly gpu: string | undefined;
}

/** Worker slots: a task runs only on a free one (the agent wakes its poller on release). */
export class SlotPool {
  readonly #free: Slot[];
  readonly total: number;

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
  }
}
