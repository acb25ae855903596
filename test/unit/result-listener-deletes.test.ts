// The result listener watches its queue again while a batch's delete is still out: an awaited
// delete kept the queue unwatched for a round trip after every result (20 ms of each no-op's
// latency at 20 ms per AWS call, bench row 7).
import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { ControlClient } from "#core/control/index.ts";
import { ResultListener } from "#sdk/index.ts";

describe("ResultListener deletes", () => {
  it("receives the next batch before the last delete has answered, and still deletes it", async () => {
    const run = new AbortController();
    const events: string[] = [];
    let releaseDelete: () => void = () => {};
    const deleteAnswered = new Promise<void>((r) => {
      releaseDelete = r;
    });
    let receives = 0;
    const sqs = {
      async send(command: { constructor: { name: string }; input: unknown }) {
        const name = command.constructor.name;
        if (name === "ReceiveMessageCommand") {
          receives++;
          events.push(`receive ${receives}`);
          if (receives === 1) return { Messages: [{ Body: "r1", ReceiptHandle: "h1" }] };
          // The second receive came while the delete was still out: let the delete answer.
          releaseDelete();
          await new Promise((r) => setTimeout(r, 5));
          run.abort();
          return { Messages: [] };
        }
        if (name === "DeleteMessageBatchCommand") {
          events.push("delete sent");
          await deleteAnswered;
          events.push("delete answered");
          return {};
        }
        throw new Error(`unexpected ${name}`);
      },
    } as unknown as SQSClient;
    const listener = new ResultListener({
      sqs,
      control: {} as Pick<ControlClient, "call">,
      sessionId: "01920000-0000-7000-8000-0000000000aa",
      queueUrl: "q",
      signal: run.signal,
      onMessages: async (bodies) => void events.push(`handled ${bodies.join()}`),
      onParked: async () => {},
      pending: () => 1,
    });
    await listener.run();
    expect(events).toEqual([
      "receive 1",
      "handled r1",
      "delete sent",
      "receive 2",
      "delete answered",
    ]);
  });
});
