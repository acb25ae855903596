import type { ResultMessage } from "#core/protocol/index.ts";
import { median } from "./stats.ts";

type Timings = ResultMessage["timings"];

/**
 * Where a task's time went, in ms, from its result's timings (one machine, one clock):
 * the profile of a round trip without a profiler.
 */
export function stagesOf(
  t: Timings,
  submittedAt: number,
  awaitedAt: number,
): Record<string, number> {
  const out: Record<string, number> = {
    "submit->sent": t.sent - submittedAt,
    "sent->received": t.received - t.sent,
  };
  const resolved = t.inputsResolved ?? t.received;
  out["received->inputsResolved"] = resolved - t.received;
  if (t.started !== undefined) out["inputsResolved->started"] = t.started - resolved;
  if (t.started !== undefined && t.ended !== undefined) out["started->ended"] = t.ended - t.started;
  if (t.ended !== undefined) out["ended->resultSent"] = t.resultSent - t.ended;
  if (t.storeMs !== undefined) out["(result store put)"] = t.storeMs;
  out["resultSent->resultReceived"] = (t.resultReceived ?? t.resultSent) - t.resultSent;
  out["resultReceived->done"] = awaitedAt - (t.resultReceived ?? awaitedAt);
  return out;
}

/** Median of each stage over many tasks. */
export function medianStages(list: readonly Record<string, number>[]): Record<string, number> {
  const keys = new Set(list.flatMap((s) => Object.keys(s)));
  return Object.fromEntries(
    [...keys].map((k) => [k, median(list.flatMap((s) => (s[k] === undefined ? [] : [s[k]])))]),
  );
}
