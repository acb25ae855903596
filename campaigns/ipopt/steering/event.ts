/** A settable flag that tasks can wait on (Colmena's threading.Event, in promises). */
export class Flag {
  #set = false;
  #waiters: (() => void)[] = [];

  get isSet(): boolean {
    return this.#set;
  }

  set(): void {
    this.#set = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  clear(): void {
    this.#set = false;
  }

  /** Resolves when the flag is set (at once if it is); rejects when the signal aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    if (this.#set) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(signal?.reason ?? new Error("aborted"));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(wake);
    });
  }
}
