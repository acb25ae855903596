import type { ResultMessage } from "#core/protocol/index.ts";
import type { TaskFuture } from "./executor-types.ts";

/**
 * Each future's result as it settles, the first to arrive first, ending once all have: the
 * loop a steering program wants for "these tasks" (`results()` streams the whole session and
 * never ends by itself). Rejects, after yielding what had arrived, if the executor closes first.
 * @example
 * for await (const result of asCompleted(futures)) console.log(result.taskId, result.ok);
 */
export async function* asCompleted(futures: readonly TaskFuture[]): AsyncGenerator<ResultMessage> {
  const ready: ResultMessage[] = [];
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  for (const future of futures) {
    future.result.then(
      (result) => {
        ready.push(result);
        wake?.();
      },
      (error: unknown) => {
        failure ??= { error };
        wake?.();
      },
    );
  }
  for (let yielded = 0; yielded < futures.length; ) {
    if (ready.length === 0 && !failure) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    const next = ready.shift();
    if (next) {
      yielded++;
      yield next;
    } else if (failure) {
      throw failure.error;
    }
  }
}
