/**
 * Promises to resolve when something changes (a slot frees, a queue shrinks), each also
 * resolved by its own abort signal, so a loop waiting on one never spins and never hangs.
 */
export class Waiters {
  #waiters: Array<() => void> = [];

  /** Resolves at the next wake(), at once if `ready()` already holds, or when `signal` aborts. */
  wait(signal: AbortSignal, ready: () => boolean = () => false): Promise<void> {
    if (ready() || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
