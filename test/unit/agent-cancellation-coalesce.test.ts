// Regression (bench issue 7): each slot's receive made its own checkCancellations call, so the
// control plane capped an agent's throughput. Checks beyond maxChecksInFlight now share calls.
import { describe, expect, it } from "vitest";
import { CancellationWatcher } from "#agent/cancellation.ts";
import type { ControlClient } from "#core/control/index.ts";
import type { Logger } from "#core/logger.ts";

const SESSION = "01920000-0000-7000-8000-0000000000ff";
const key = (taskId: string) => ({ taskId, sessionId: SESSION });
const keys = (...taskIds: string[]) => taskIds.map(key);

const id = (n: number) => `01920000-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;
const logger = { warn: () => {}, info: () => {} } as unknown as Logger;

/** A control whose checkCancellations takes 30 ms and reports `cancelled` among the ids asked. */
function slowControl(cancelled: Set<string>) {
  const calls: string[][] = [];
  const control = {
    async call(_action: string, request: { tasks: { taskId: string }[] }) {
      const taskIds = request.tasks.map((t) => t.taskId);
      calls.push(taskIds);
      // The answer is as of the call's start, as a real registry read would be.
      const answer = taskIds.filter((t) => cancelled.has(t));
      await new Promise((r) => setTimeout(r, 30));
      return { cancelled: answer };
    },
  } as unknown as Pick<ControlClient, "call">;
  return { control, calls };
}

describe("CancellationWatcher coalescing", () => {
  it("checks asked for while the calls allowed are in flight share the next call, each getting its own answer", async () => {
    const { control, calls } = slowControl(new Set([id(3), id(6)]));
    const watcher = new CancellationWatcher({
      control,
      intervalMs: 60_000,
      signal: new AbortController().signal,
      logger,
      maxChecksInFlight: 1,
    });
    const first = watcher.check(keys(id(1)));
    const rest = Array.from({ length: 7 }, (_, i) => watcher.check(keys(id(i + 2))));
    const answers = await Promise.all([first, ...rest]);
    expect(calls).toEqual([[id(1)], [id(2), id(3), id(4), id(5), id(6), id(7), id(8)]]);
    expect(answers.map((a) => [...a])).toEqual([[], [], [id(3)], [], [], [id(6)], [], []]);
    // A later check starts its own call at once.
    expect([...(await watcher.check(keys(id(6))))]).toEqual([id(6)]);
    expect(calls).toHaveLength(3);
  });

  it("a check asked for during a call is answered by a call made after it, never the earlier one", async () => {
    const cancelled = new Set<string>();
    const { control } = slowControl(cancelled);
    const watcher = new CancellationWatcher({
      control,
      intervalMs: 60_000,
      signal: new AbortController().signal,
      logger,
    });
    const early = watcher.check(keys(id(1)));
    // Cancelled after the first call was made: only a later call can see it.
    cancelled.add(id(1));
    const late = watcher.check(keys(id(1)));
    expect([...(await late)]).toEqual([id(1)]);
    expect([...(await early)]).toEqual([]);
  });

  it("runs up to maxChecksInFlight calls at once (4 by default), then shares the next", async () => {
    const { control, calls } = slowControl(new Set([id(5)]));
    const watcher = new CancellationWatcher({
      control,
      intervalMs: 60_000,
      signal: new AbortController().signal,
      logger,
    });
    const answers = await Promise.all(
      Array.from({ length: 7 }, (_, i) => watcher.check(keys(id(i + 1)))),
    );
    expect(calls).toEqual([[id(1)], [id(2)], [id(3)], [id(4)], [id(5), id(6), id(7)]]);
    expect(answers.map((a) => [...a])).toEqual([[], [], [], [], [id(5)], [], []]);
  });
});
