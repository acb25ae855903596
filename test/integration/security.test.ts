import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointAgent } from "#agent/index.ts";
import { RefusedError } from "#core/errors.ts";
import { Executor } from "#sdk/index.ts";
import { type Harness, queueBodies, startHarness, startInProcessAgent } from "./agent-harness.ts";

let h: Harness;
let agent: EndpointAgent;
beforeAll(async () => {
  h = await startHarness();
  h.results.start();
  agent = await startInProcessAgent(h, { pollWaitSeconds: 1 });
});
afterAll(async () => {
  await agent?.close();
  await h?.close();
});

describe("shell functions take hostile strings literally (argv, no shell)", () => {
  it("passes metacharacters in the argv template and in the arguments as plain text", async () => {
    const marker = join(h.dir, "pwned");
    const hostile = [
      `; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `| touch ${marker}`,
      "&& rm -rf /tmp/x",
    ];
    const script =
      "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>console.log(JSON.stringify({argv:process.argv.slice(1),args:JSON.parse(s).args})))";
    const fn = await h.registerShell("echo-argv", [process.execPath, "-e", script, ...hostile]);
    const taskId = await h.sendTask(fn, { text: hostile });
    const result = await h.results.waitFor(taskId, 30_000);
    expect(result.ok && result.value).toEqual({
      inline: { argv: hostile, args: { text: hostile } },
    });
    expect(existsSync(marker)).toBe(false);
  });
});

describe("oversize payloads", () => {
  it("refuses a 2 MB inline argument before anything is sent", async () => {
    const fn = await h.registerNode("echo-big", "export default (a) => a;");
    // The real registration function: the executor opens its own session and looks up the
    // endpoint's queue there, as against a deployment.
    const control = h.control as ConstructorParameters<typeof Executor>[0]["control"];
    const executor = new Executor(
      { sqs: h.aws.sqs, control },
      { storePolicies: { big: { backend: "none", thresholdBytes: 0 } } },
    );
    const before = queueBodies(h.server, h.taskQueueName).length;
    const error = await executor
      .submit(fn.name, { blob: "x".repeat(2_000_000) }, { endpointId: h.endpointId, topic: "big" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as Error).message).toMatch(/topic "big" is \d+ bytes, over the \d+ bytes/);
    expect(queueBodies(h.server, h.taskQueueName).length).toBe(before);
    await executor.close();
  });
});
