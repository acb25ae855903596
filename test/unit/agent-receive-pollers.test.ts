// An agent with room for more than one receive batch keeps several long polls in flight, and
// together they never ask for more messages than there is room for (one poll at a time capped
// an agent at 10 messages per receive round trip).
import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { AgentDeps } from "#agent/deps.ts";
import { pollersFor, receiveLoop } from "#agent/receive.ts";
import { createLogger } from "#core/logger.ts";

describe("the receive stage's pollers", () => {
  it("one per full batch of room, 1 to 4", () => {
    expect([1, 10, 11, 16, 20, 21, 200].map(pollersFor)).toEqual([1, 1, 2, 2, 2, 3, 4]);
  });

  it("keeps polls in flight together, each asking only for room no other poll claimed", async () => {
    const run = new AbortController();
    let room = 16;
    const asked: number[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const waiting: Array<() => void> = [];
    const sqs = {
      async send(command: { input: { MaxNumberOfMessages: number } }) {
        asked.push(command.input.MaxNumberOfMessages);
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        // Answer once both polls are out (or the run stops).
        await new Promise<void>((r) => {
          waiting.push(r);
          if (waiting.length === 2) for (const w of waiting.splice(0)) w();
        });
        inFlight--;
        const n = command.input.MaxNumberOfMessages;
        return { Messages: Array.from({ length: n }, (_, i) => ({ MessageId: String(i) })) };
      },
    } as unknown as AgentDeps["sqs"];
    const received: Message[][] = [];
    const loop = receiveLoop(
      {
        deps: { sqs, control: {} as AgentDeps["control"] },
        endpointId: "e",
        queueUrl: "q",
        config: { pollWaitSeconds: 20, visibilityTimeoutSeconds: 60 },
        signal: run.signal,
        room: () => room,
        waitForRoom: async () => {
          // Full: the test is over.
          run.abort();
          for (const w of waiting.splice(0)) w();
        },
        received: (messages) => {
          received.push(messages);
          room -= messages.length;
        },
        deregistered: () => {},
        logger: createLogger({}, { level: "silent" }),
      },
      pollersFor(16),
    );
    await loop;
    expect(mostInFlight).toBe(2);
    // 10 and 6 asked at once: 16, the room there was.
    expect(asked.slice(0, 2).sort((a, b) => a - b)).toEqual([6, 10]);
    expect(received.flat()).toHaveLength(16);
  });
});
