/** Default size of the stdout/stderr tails that travel with a result. */
export const TAIL_BYTES = 4_096;

/** Keeps the last `limitBytes` bytes written to it: a task's output tail, in bounded memory. */
export class Tail {
  readonly #limitBytes: number;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(limitBytes: number = TAIL_BYTES) {
    this.#limitBytes = limitBytes;
  }

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.#chunks.push(buf);
    this.#size += buf.length;
    while (this.#size > this.#limitBytes && this.#chunks.length > 1) {
      const first = this.#chunks.shift();
      this.#size -= first?.length ?? 0;
    }
  }

  reset(): void {
    this.#chunks = [];
    this.#size = 0;
  }

  /** The tail as text; undefined when nothing was written. */
  text(): string | undefined {
    if (this.#size === 0) return undefined;
    const all = Buffer.concat(this.#chunks);
    return all.subarray(Math.max(0, all.length - this.#limitBytes)).toString("utf8");
  }
}
