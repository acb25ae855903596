import type { ResultMessage } from "#core/protocol/index.ts";

/** Handles every result of one topic; a thrown error stops the campaign. */
export type ResultProcessor = (result: ResultMessage) => void | Promise<void>;

/**
 * Routes each result from the executor's stream to the processor of its topic, one at a time
 * and in arrival order (processors need no locks), until `stop()` or the signal aborts.
 */
export async function dispatchResults(
  results: AsyncIterable<ResultMessage>,
  processors: Readonly<Record<string, ResultProcessor>>,
  signal: AbortSignal,
): Promise<void> {
  const iterator = results[Symbol.asyncIterator]();
  const aborted = new Promise<"aborted">((resolve) => {
    if (signal.aborted) resolve("aborted");
    signal.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  while (!signal.aborted) {
    const next = await Promise.race([iterator.next(), aborted]);
    if (next === "aborted" || next.done) return;
    const processor = processors[next.value.topic];
    if (processor) await processor(next.value);
  }
}
