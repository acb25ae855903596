// A message received ahead of a free slot that waits past half its receive visibility goes
// back to the queue, and the agent is told: receiving ahead again while long tasks hold every
// slot would hand it back again and again, each receive counting toward its maxAttempts.
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CancellationWatcher } from "#agent/cancellation.ts";
import { Prefetch } from "#agent/prefetch.ts";

describe("Prefetch", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("hands back what waited 5 s for a slot and says it stalled; starts what finds one", async () => {
    vi.useFakeTimers();
    const visibility: number[] = [];
    const sqs = {
      send: async (c: { input: { VisibilityTimeout: number } }) => {
        visibility.push(c.input.VisibilityTimeout);
      },
    } as unknown as SQSClient;
    let free = 0;
    let stalls = 0;
    const started: Message[] = [];
    const prefetch = new Prefetch({
      sqs,
      queueUrl: "q",
      signal: new AbortController().signal,
      cancellations: {} as CancellationWatcher,
      freeSlots: () => free,
      active: () => true,
      start: (m) => {
        started.push(m);
        free--;
      },
      changed: () => {},
      stalled: () => {
        stalls++;
      },
    });
    // Received fresh (no check needed): waits for a slot.
    const fresh = {
      SentTimestamp: String(Date.now()),
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    };
    prefetch.add([{ MessageId: "a", Body: "{}", Attributes: fresh }]);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(stalls).toBe(0);
    expect(prefetch.length).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(visibility).toEqual([0]);
    expect(stalls).toBe(1);
    expect(prefetch.length).toBe(0);

    // With a slot free, a message starts and nothing stalls.
    free = 1;
    prefetch.add([{ MessageId: "b", Body: "{}", Attributes: fresh }]);
    expect(started.map((m) => m.MessageId)).toEqual(["b"]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stalls).toBe(1);
  });
});
