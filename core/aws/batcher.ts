/** One entry's outcome in a batch request (SQS batch calls fail entries one by one). */
export type EntryOutcome = { ok: true } | { ok: false; error: unknown };

export interface RequestBatcherOptions<T> {
  /** Sends one batch; returns one outcome per item, in order. A throw fails the whole batch. */
  send(items: T[]): Promise<EntryOutcome[]>;
  /** Most items in one request. @default 10 (SQS batch calls) */
  maxItems?: number;
  /** Most bytes in one request, counted by `sizeOf`. @default Infinity */
  maxBytes?: number;
  /** @default () => 0 */
  sizeOf?: (item: T) => number;
  /** Requests in flight at once. @default 2 */
  maxInFlight?: number;
}

interface Pending<T> {
  item: T;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Groups what callers add while earlier requests are in flight into the next batch request.
 * An idle batcher sends at once (no timer, no added latency); a busy one sends up to maxItems
 * per request, so many short tasks cost a fraction of a request each.
 *
 * Hand-written: DataLoader and the like batch per event-loop tick and cache by key; SQS batches
 * need per-entry failures, a byte budget and no cache.
 */
export class RequestBatcher<T> {
  readonly #o: Required<RequestBatcherOptions<T>>;
  readonly #pending: Pending<T>[] = [];
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: RequestBatcherOptions<T>) {
    this.#o = {
      maxItems: 10,
      maxBytes: Number.POSITIVE_INFINITY,
      sizeOf: () => 0,
      maxInFlight: 2,
      ...options,
    };
  }

  /** Resolves when the item's entry succeeded; rejects with its error. */
  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ item, bytes: this.#o.sizeOf(item), resolve, reject });
      this.#pump();
    });
  }

  /** Nothing waiting and nothing in flight. */
  get idle(): boolean {
    return this.#pending.length === 0 && this.#inFlight.size === 0;
  }

  /** Resolves when every item added so far has been sent (or failed). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#pending.length > 0) {
      this.#pump();
      await Promise.race(this.#inFlight);
    }
  }

  #pump(): void {
    while (this.#pending.length > 0 && this.#inFlight.size < this.#o.maxInFlight) {
      const batch = this.#take();
      const request: Promise<void> = this.#sendBatch(batch).then((settle) => {
        // Out of the in-flight set before the callers hear: they may check `idle`.
        this.#inFlight.delete(request);
        settle();
        this.#pump();
      });
      this.#inFlight.add(request);
    }
  }

  /** The next batch: at least one item, then as many as fit. */
  #take(): Pending<T>[] {
    const batch: Pending<T>[] = [];
    let bytes = 0;
    while (batch.length < this.#o.maxItems) {
      const next = this.#pending[0];
      if (!next || (batch.length > 0 && bytes + next.bytes > this.#o.maxBytes)) break;
      this.#pending.shift();
      batch.push(next);
      bytes += next.bytes;
    }
    return batch;
  }

  /** Sends one batch; never rejects: returns what settles its callers. */
  async #sendBatch(batch: Pending<T>[]): Promise<() => void> {
    let outcomes: EntryOutcome[];
    try {
      outcomes = await this.#o.send(batch.map((p) => p.item));
    } catch (error) {
      return () => {
        for (const p of batch) p.reject(error);
      };
    }
    return () =>
      batch.forEach((p, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) p.resolve();
        else
          p.reject(outcome ? outcome.error : new Error("the batch response had no entry for it"));
      });
  }
}
