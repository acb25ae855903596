import { afterEach, describe, expect, it, vi } from "vitest";
import { mayHaveBeenCancelled } from "#agent/agent.ts";
import { CancellationWatcher } from "#agent/cancellation.ts";
import type { ControlClient } from "#core/control/index.ts";
import { TransientError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";

const SESSION = "01920000-0000-7000-8000-0000000000ff";
const key = (taskId: string) => ({ taskId, sessionId: SESSION });
const keys = (...taskIds: string[]) => taskIds.map(key);

const A = "01920000-0000-7000-8000-00000000000a";
const B = "01920000-0000-7000-8000-00000000000b";

/** A control that answers checkCancellations from `script`, one entry per call. */
function fakeControl(script: Array<string[] | Error>) {
  const calls: string[][] = [];
  const control = {
    async call(action: string, request: { tasks: { taskId: string }[] }) {
      if (action !== "checkCancellations") throw new Error(`unexpected ${action}`);
      const taskIds = request.tasks.map((t) => t.taskId);
      calls.push(taskIds);
      const next = script.shift() ?? [];
      if (next instanceof Error) throw next;
      return { cancelled: next.filter((id) => taskIds.includes(id)) };
    },
  } as unknown as Pick<ControlClient, "call">;
  return { control, calls };
}

function fakeLogger() {
  const warnings: string[] = [];
  const logger = {
    warn: (_: unknown, msg: string) => warnings.push(msg),
    info: () => {},
  } as unknown as Logger;
  return { logger, warnings };
}

describe("CancellationWatcher", () => {
  const run = new AbortController();
  let watcher: CancellationWatcher | undefined;
  afterEach(() => {
    watcher?.stop();
    vi.useRealTimers();
  });

  it("checks a batch in one call, skipping ids that are not UUIDs", async () => {
    const { control, calls } = fakeControl([[B]]);
    watcher = new CancellationWatcher({
      control,
      intervalMs: 1_000,
      signal: run.signal,
      logger: fakeLogger().logger,
    });
    expect([...(await watcher.check(keys(A, B, "junk", A)))]).toEqual([B]);
    expect(calls).toEqual([[A, B]]);
  });

  it("logs a failed check, counts it as none cancelled, and asks again next interval", async () => {
    const { control, calls } = fakeControl([
      new TransientError("cannot reach the registration function"),
      new TransientError("still down"),
      [A],
    ]);
    const { logger, warnings } = fakeLogger();
    watcher = new CancellationWatcher({ control, intervalMs: 50, signal: run.signal, logger });
    expect((await watcher.check(keys(A))).size).toBe(0);
    expect(warnings).toEqual(["cannot check for cancelled tasks; will check again"]);

    // The watcher's own timers, run by the test's clock: 400 ms pass exactly, however busy
    // the machine is.
    vi.useFakeTimers();
    const a = watcher.watch(key(A));
    const b = watcher.watch(key(B));
    watcher.start();
    await vi.advanceTimersByTimeAsync(400);
    expect(warnings).toHaveLength(2);
    expect(a.signal.aborted).toBe(true);
    expect(b.signal.aborted).toBe(false);
    expect(calls[1]).toEqual([A, B]);

    // Nothing watched: no calls at all.
    a.stop();
    b.stop();
    const before = calls.length;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls.length).toBe(before);
  });
});

describe("which received tasks are checked before they start", () => {
  const message = (attributes: Record<string, string>) => ({ Attributes: attributes });
  it("skips a message received for the first time within a second of its sending", () => {
    const sent = 1_700_000_000_000;
    const fresh = {
      SentTimestamp: String(sent),
      ApproximateFirstReceiveTimestamp: String(sent + 40),
    };
    expect(mayHaveBeenCancelled(message({ ...fresh, ApproximateReceiveCount: "1" }))).toBe(false);
    // It waited in the queue: a client had time to cancel it.
    expect(
      mayHaveBeenCancelled(
        message({ ...fresh, ApproximateFirstReceiveTimestamp: String(sent + 1_500) }),
      ),
    ).toBe(true);
    // It came back (an agent died or released it): always checked.
    expect(mayHaveBeenCancelled(message({ ...fresh, ApproximateReceiveCount: "2" }))).toBe(true);
    // Without the timestamps nothing is known: checked.
    expect(mayHaveBeenCancelled(message({ ApproximateReceiveCount: "1" }))).toBe(true);
  });
});
