/**
 * Resource slots per task type, as Colmena's resource counter: a submitter acquires a slot
 * before it sends a task and the result processor releases it, so at most `capacity` tasks
 * of a type are in flight.
 */
export class ResourceSlots {
  readonly #free = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();

  constructor(capacity: Readonly<Record<string, number>>) {
    for (const [type, n] of Object.entries(capacity)) this.#free.set(type, n);
  }

  /** Resolves once a slot of `type` is free (and taken); rejects when the signal aborts. */
  acquire(type: string, signal?: AbortSignal): Promise<void> {
    const free = this.#free.get(type) ?? 0;
    if (free > 0) {
      this.#free.set(type, free - 1);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const queue = this.#waiting.get(type) ?? [];
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = queue.indexOf(wake);
        if (i >= 0) queue.splice(i, 1);
        reject(signal?.reason ?? new Error("aborted"));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      queue.push(wake);
      this.#waiting.set(type, queue);
    });
  }

  /** Give a slot back; the longest waiter gets it. */
  release(type: string): void {
    const next = this.#waiting.get(type)?.shift();
    if (next) next();
    else this.#free.set(type, (this.#free.get(type) ?? 0) + 1);
  }

  available(type: string): number {
    return this.#free.get(type) ?? 0;
  }
}
