import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointAgent } from "#agent/index.ts";
import { TaskMessage } from "#core/protocol/index.ts";
import { applyMutations, fuzzRuns, mutationsOf, textMutationsOf } from "../helpers/fuzz.ts";
import {
  type Harness,
  queueBodies,
  startHarness,
  startInProcessAgent,
  waitUntil,
} from "./agent-harness.ts";

let h: Harness;
let agent: EndpointAgent;
beforeAll(async () => {
  h = await startHarness();
  h.results.start();
  agent = await startInProcessAgent(h, { pollWaitSeconds: 1, workers: 4 });
});
afterAll(async () => {
  await agent?.close();
  await h?.close();
});

describe("an agent fed fuzzed task bodies", () => {
  it("dead-letters every malformed body and keeps serving valid tasks", async () => {
    const fn = await h.registerNode("fuzz-echo", "export default (a) => a;");
    const valid = JSON.parse(
      JSON.stringify({
        v: 1,
        taskId: "00000000-0000-7000-8000-000000000000",
        sessionId: h.sessionId,
        endpointId: h.endpointId,
        function: fn,
        args: { inline: { x: 1 } },
        replyTo: h.resultQueueUrl,
        created: 1,
        sent: 2,
      }),
    );
    const count = fuzzRuns(200);
    const candidates = fc.sample(
      fc.oneof(
        // A cycle cannot be written as JSON, so it never becomes a body: "" is filtered out below.
        mutationsOf(valid).map((m) => {
          try {
            return JSON.stringify(applyMutations(valid, m));
          } catch {
            return "";
          }
        }),
        textMutationsOf(JSON.stringify(valid)),
      ),
      count * 2,
    );
    // Only bodies the agent must refuse, and that SQS itself accepts (printable, not empty).
    const malformed = candidates
      .filter((b) => b.length > 0 && /^[\t\n\r\x20-\x7e]*$/.test(b))
      .filter((b) => {
        try {
          return !TaskMessage.safeParse(JSON.parse(b)).success;
        } catch {
          return true;
        }
      })
      .slice(0, count);
    const dlqBefore = queueBodies(h.server, h.dlqName).length;
    const validIds: string[] = [];
    for (const [i, body] of malformed.entries()) {
      await h.sendRaw(body);
      if (i % 20 === 0) validIds.push(await h.sendTask(fn, { i }));
    }
    for (const id of validIds) {
      const result = await h.results.waitFor(id, 60_000);
      expect(result.ok).toBe(true);
    }
    await waitUntil(
      () => queueBodies(h.server, h.dlqName).length - dlqBefore >= malformed.length,
      60_000,
      "every malformed body in the DLQ",
    );
    const letters = queueBodies(h.server, h.dlqName).slice(dlqBefore);
    expect(letters).toHaveLength(malformed.length);
    for (const l of letters)
      expect(l.messageAttributes.FerryReason?.StringValue).toMatch(/^task message: /);
    expect(agent.state).toBe("running");
    console.log(
      `fuzz-agent: ${malformed.length} malformed bodies dead-lettered, ${validIds.length} valid tasks served`,
    );
  });
});
