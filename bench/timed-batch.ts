import { performance } from "node:perf_hooks";
import type { ResultMessage } from "#core/protocol/index.ts";
import type { TaskSpec } from "#sdk/index.ts";
import type { BenchContext } from "./context.ts";
import { stagesOf } from "./stages.ts";

/**
 * Submit the tasks at once and wait for every result: the seconds from submit to the last
 * result, with each task's stages kept under `stageKey` for the report.
 */
export async function timedBatch(
  ctx: BenchContext,
  specs: TaskSpec[],
  stageKey: string,
): Promise<{ seconds: number; results: ResultMessage[] }> {
  const submittedAt = Date.now();
  const t0 = performance.now();
  const futures = await ctx.executor.submitMany(specs);
  const results = await Promise.all(futures.map((f) => f.result));
  const seconds = (performance.now() - t0) / 1000;
  const done = Date.now();
  ctx.stages[stageKey] = results.map((r) => stagesOf(r.timings, submittedAt, done));
  return { seconds, results };
}
