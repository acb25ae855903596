// SQS refuses to keep a message invisible beyond 12 h from its receipt: the keeper's extensions
// must stay under that ceiling instead of being refused, and say so when they cannot.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FIRST_EXTENSION_AFTER_MS, VisibilityKeeper } from "#agent/visibility.ts";
import type { SqsBatchers } from "#core/aws/index.ts";
import { createLogger } from "#core/logger.ts";
import { SQS_VISIBILITY_CEILING_SECONDS } from "#core/protocol/index.ts";

function keeperAt(elapsedSeconds: number) {
  const asked: number[] = [];
  const errors: string[] = [];
  const batchers = {
    changeVisibility: async (_q: string, _r: string, seconds: number) => {
      asked.push(seconds);
    },
  } as unknown as SqsBatchers;
  const logger = createLogger({}, { level: "silent" });
  logger.error = ((_: unknown, msg: string) => {
    errors.push(msg);
  }) as typeof logger.error;
  const keeper = new VisibilityKeeper({
    batchers,
    queueUrl: "q",
    receiptHandle: "r",
    visibilityTimeoutSeconds: 120,
    receivedAt: Date.now() - elapsedSeconds * 1000,
    signal: new AbortController().signal,
    logger,
  });
  return { keeper, asked, errors };
}

describe("visibility extensions near SQS's 12-hour ceiling", () => {
  it("extends by the full timeout far from the ceiling", async () => {
    const { keeper, asked } = keeperAt(10);
    keeper.start();
    await keeper.stop();
    expect(asked).toEqual([120]);
  });

  it("shortens the extension to what is left, minus a margin", async () => {
    const { keeper, asked } = keeperAt(SQS_VISIBILITY_CEILING_SECONDS - 100);
    keeper.start();
    await keeper.stop();
    expect(asked).toHaveLength(1);
    expect(asked[0]).toBeGreaterThan(30);
    expect(asked[0]).toBeLessThanOrEqual(40);
  });

  it("asks nothing past the ceiling, and says the task may run again", async () => {
    const { keeper, asked, errors } = keeperAt(SQS_VISIBILITY_CEILING_SECONDS - 30);
    keeper.start();
    await keeper.stop();
    expect(asked).toEqual([]);
    expect(errors.join()).toMatch(/12-hour visibility ceiling/);
  });
});

describe("the first visibility extension", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("waits a second after the receive: a task over by then makes no call", async () => {
    vi.useFakeTimers();
    const short = keeperAt(0);
    short.keeper.start();
    await vi.advanceTimersByTimeAsync(FIRST_EXTENSION_AFTER_MS - 100);
    await short.keeper.stop();
    expect(short.asked).toEqual([]);

    const long = keeperAt(0);
    long.keeper.start();
    await vi.advanceTimersByTimeAsync(FIRST_EXTENSION_AFTER_MS + 100);
    expect(long.asked).toEqual([120]);
    // Then every third of the timeout.
    await vi.advanceTimersByTimeAsync(40_000);
    expect(long.asked).toEqual([120, 120]);
    await long.keeper.stop();
  });
});
