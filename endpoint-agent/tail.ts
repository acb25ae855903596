/** Default size of the stdout/stderr tails that travel with a result. */
export const TAIL_BYTES = 4_096;

/** Keeps the last `limitBytes` bytes written to it: a task's output tail, in bounded memory. */
export class Tail {
  readonly #limitBytes: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #total = 0;

  constructor(limitBytes: number = TAIL_BYTES) {
    this.#limitBytes = limitBytes;
  }

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.#chunks.push(buf);
    this.#size += buf.length;
    this.#total += buf.length;
    // Drop a chunk only when the rest still holds the limit: a large chunk followed by a small
    // one must not leave just the small one.
    while (
      this.#chunks.length > 1 &&
      this.#size - (this.#chunks[0]?.length ?? 0) >= this.#limitBytes
    ) {
      const first = this.#chunks.shift();
      this.#size -= first?.length ?? 0;
    }
    // Memory stays under twice the limit: an oversized first chunk keeps only what is needed.
    const first = this.#chunks[0];
    if (first && this.#size > 2 * this.#limitBytes) {
      const keep = Buffer.from(first.subarray(this.#size - this.#limitBytes));
      this.#chunks[0] = keep;
      this.#size -= first.length - keep.length;
    }
  }

  reset(): void {
    this.#chunks = [];
    this.#size = 0;
    this.#total = 0;
  }

  /** Bytes written since the last reset, kept or not: where the tail ends in the stream. */
  get total(): number {
    return this.#total;
  }

  /** The last `limitBytes` bytes, raw. */
  bytes(): Buffer {
    const all = Buffer.concat(this.#chunks);
    return all.subarray(Math.max(0, all.length - this.#limitBytes));
  }

  /** The tail as text; undefined when nothing was written. */
  text(): string | undefined {
    if (this.#size === 0) return undefined;
    return this.bytes().toString("utf8");
  }
}
