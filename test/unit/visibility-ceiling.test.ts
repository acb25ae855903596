// SQS refuses to keep a message invisible beyond 12 h from its receipt: the keeper's extensions
// must stay under that ceiling instead of being refused, and say so when they cannot.
import { describe, expect, it } from "vitest";
import { VisibilityKeeper } from "#agent/visibility.ts";
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

describe("stopping the visibility keeper", () => {
  it("extends at once; a delivered result does not wait for that call, a release does", async () => {
    let answer: () => void = () => {};
    const asked: number[] = [];
    const batchers = {
      changeVisibility: (_q: string, _r: string, seconds: number) => {
        asked.push(seconds);
        return new Promise<void>((r) => {
          answer = r;
        });
      },
    } as unknown as SqsBatchers;
    const keeper = () =>
      new VisibilityKeeper({
        batchers,
        queueUrl: "q",
        receiptHandle: "r",
        visibilityTimeoutSeconds: 120,
        receivedAt: Date.now(),
        signal: new AbortController().signal,
        logger: createLogger({}, { level: "silent" }),
      });
    const delivered = keeper();
    delivered.start();
    // The extension went out at once: a network cut now cannot make the task come back.
    expect(asked).toEqual([120]);
    await delivered.stop({ wait: false });
    const released = keeper();
    released.start();
    let stopped = false;
    const stopping = released.stop().then(() => {
      stopped = true;
    });
    // Every callback queued so far has run: only the extension's answer can end the stop.
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    answer();
    await stopping;
    expect(stopped).toBe(true);
  });
});
