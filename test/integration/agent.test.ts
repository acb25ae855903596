import { readdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EndpointAgent } from "#agent/index.ts";
import { newSessionId, newTaskId } from "#core/ids.ts";
import type { FunctionRef } from "#core/protocol/index.ts";
import { type Harness, queueBodies, startHarness, waitUntil } from "./agent-harness.ts";

describe("endpoint agent against the emulator", () => {
  let h: Harness;
  let agent: EndpointAgent;
  let add: FunctionRef;
  let fails: FunctionRef;

  beforeAll(async () => {
    h = await startHarness();
    add = await h.registerNode(
      "add",
      `export default async function add(args: { a: number; b: number }) {
         console.log("adding", args.a, args.b);
         return { sum: args.a + args.b, pid: process.pid };
       }`,
    );
    fails = await h.registerNode(
      "fails",
      `export function handler(args: { why: string }): never { throw new RangeError("bad input: " + args.why); }`,
    );
    agent = new EndpointAgent({
      endpointId: h.endpointId,
      config: await h.config(),
      deps: h.deps(),
    });
    await agent.start();
    h.results.start();
  });

  afterAll(async () => {
    await agent?.close("test over");
    await h?.close();
  });

  it("runs a node function and sends its value back, then deletes the task", async () => {
    expect(agent.state).toBe("running");
    const taskId = await h.sendTask(add, { a: 2, b: 40 });
    const result = await h.results.waitFor(taskId);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ inline: { sum: 42 } });
    expect(result.stdoutTail).toContain("adding 2 40");
    expect(result.worker.endpointId).toBe(h.endpointId);
    const t = result.timings;
    expect(t.received).toBeGreaterThanOrEqual(t.sent);
    expect(t.started).toBeGreaterThanOrEqual(t.received);
    expect(t.ended).toBeGreaterThanOrEqual(t.started ?? 0);
    expect(t.resultSent).toBeGreaterThanOrEqual(t.ended ?? 0);
    await waitUntil(
      () => queueBodies(h.server, h.taskQueueName).length === 0,
      5_000,
      "task deleted",
    );
  });

  it("reuses a warm worker for the next task of the same function", async () => {
    const first = await h.results.waitFor(await h.sendTask(add, { a: 1, b: 1 }));
    const second = await h.results.waitFor(await h.sendTask(add, { a: 2, b: 2 }));
    if (!first.ok || !second.ok) throw new Error("expected two successes");
    const pids = [first, second].map((r) => (r.value as { inline: { pid: number } }).inline.pid);
    // Two slots may hold two warm workers; a third task must reuse one of them.
    const third = await h.results.waitFor(await h.sendTask(add, { a: 3, b: 3 }));
    if (!third.ok) throw new Error("expected success");
    expect(pids).toContain((third.value as { inline: { pid: number } }).inline.pid);
  });

  it("reports a function that throws as a failed result carrying its message", async () => {
    const taskId = await h.sendTask(fails, { why: "negative mass" });
    const result = await h.results.waitFor(taskId);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.type).toBe("FunctionError");
    expect(result.error.message).toContain("RangeError: bad input: negative mass");
  });

  it("reports an unknown function and says how to register it", async () => {
    const taskId = await h.sendTask({ name: "nosuch", sha256: "0".repeat(64) }, {});
    const result = await h.results.waitFor(taskId);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.type).toBe("UnknownFunction");
    expect(result.error.message).toContain("ferry function register");
  });

  it("dead-letters a malformed body with the reason and keeps serving", async () => {
    await h.sendRaw("this is { not json");
    await waitUntil(
      () => queueBodies(h.server, h.dlqName).some((m) => m.body === "this is { not json"),
      10_000,
      "dead letter",
    );
    const letter = queueBodies(h.server, h.dlqName).find((m) => m.body === "this is { not json");
    expect(letter?.messageAttributes.FerryReason?.StringValue).toContain("not valid JSON");
    const result = await h.results.waitFor(await h.sendTask(add, { a: 5, b: 5 }));
    expect(result.ok && result.value).toMatchObject({ inline: { sum: 10 } });
    // Deleted just after the result is sent.
    await waitUntil(() => queueBodies(h.server, h.taskQueueName).length === 0, 5_000, "deleted");
  });

  it("answers a schema-invalid task that has an address with MalformedTask", async () => {
    const taskId = newTaskId();
    const body = JSON.stringify({
      v: 1,
      taskId,
      sessionId: h.sessionId,
      replyTo: h.resultQueueUrl,
      function: { name: "add" },
    });
    await h.sendRaw(body);
    const result = await h.results.waitFor(taskId);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.type).toBe("MalformedTask");
    expect(result.error.message).toMatch(/task message: /);
    const letter = queueBodies(h.server, h.dlqName).find((m) => m.body === body);
    expect(letter?.messageAttributes.FerryReason?.StringValue).toBe(result.error.message);
    expect(agent.state).toBe("running");
  });

  it("fails an unknown protocol version clearly", async () => {
    const taskId = await h.sendTask(add, { a: 1, b: 2 }, { v: 99 as never });
    const result = await h.results.waitFor(taskId);
    expect(!result.ok && result.error.type).toBe("MalformedTask");
    expect(!result.ok && result.error.message).toContain("unsupported protocol version");
  });

  it("parks the result of a task whose session queue is gone, then deletes the task and goes on", async () => {
    // A session whose queue is gone (closed): its name is right, the queue is not there.
    const closed = newSessionId();
    await h.control.call("openSession", { sessionId: closed });
    await h.control.call("closeSession", { sessionId: closed });
    const parkedOf = async () => (await h.parked(closed)).filter((r) => r.taskId === taskId);
    const replyTo = h.resultQueueUrl.replace(h.sessionId, closed);
    const taskId = await h.sendTask(add, { a: 1, b: 1 }, { sessionId: closed, replyTo });
    // Meanwhile the agent serves other tasks: the result waits in the spool, not in a slot.
    const next = await h.results.waitFor(await h.sendTask(add, { a: 1, b: 2 }));
    expect(next.ok && next.value).toMatchObject({ inline: { sum: 3 } });
    await waitUntil(async () => (await parkedOf()).length > 0, 20_000, "result parked");
    const [parked] = await parkedOf();
    expect(parked?.ok && parked.value).toMatchObject({ inline: { sum: 2 } });
    // Parked first, deleted after: the task message goes only once its result is kept.
    await waitUntil(
      () => !queueBodies(h.server, h.taskQueueName).some((m) => m.body.includes(taskId)),
      10_000,
      "task deleted",
    );
    expect(await parkedOf()).toHaveLength(1);
  });

  it("never replies to a queue that is not the task's session's: dead-letters it, sends nothing", async () => {
    const other = h.resultQueueUrl.replace("results-", "tasks-");
    const taskId = await h.sendTask(add, { a: 1, b: 1 }, { replyTo: other });
    await waitUntil(
      () => queueBodies(h.server, h.dlqName).some((m) => m.body.includes(taskId)),
      10_000,
      "dead-lettered",
    );
    const letter = queueBodies(h.server, h.dlqName).find((m) => m.body.includes(taskId));
    expect(letter?.messageAttributes.FerryReason?.StringValue).toBe(
      `replyTo ${other} is not the result queue of session ${h.sessionId} (ferry-results-${h.sessionId})`,
    );
    // The next task's result arrives; the refused one's never does.
    const next = await h.results.waitFor(await h.sendTask(add, { a: 2, b: 2 }));
    expect(next.ok).toBe(true);
    expect(h.results.byTask(taskId)).toHaveLength(0);
    expect(queueBodies(h.server, h.taskQueueName).some((m) => m.body.includes(taskId))).toBe(false);
  });

  it("sends heartbeats with its slots and running tasks", async () => {
    const slow = await h.registerNode(
      "slow",
      "export default () => new Promise((r) => setTimeout(() => r(1), 2_500));",
    );
    const taskId = await h.sendTask(slow, {});
    await waitUntil(
      () => h.heartbeats.some((b) => b.runningTaskIds.includes(taskId)),
      5_000,
      "a heartbeat naming the running task",
    );
    const beat = h.heartbeats.find((b) => b.runningTaskIds.includes(taskId));
    expect(beat).toMatchObject({ endpointId: h.endpointId, slots: { total: 2, busy: 1 } });
    expect(beat?.versions.node).toBe(process.version);
    await h.results.waitFor(taskId);
  });

  it("refuses to start for an endpoint that is not registered", async () => {
    const stranger = new EndpointAgent({
      endpointId: newTaskId(),
      config: await h.config(),
      deps: h.deps(),
    });
    await expect(stranger.start()).rejects.toThrow(
      /is not registered: run `ferry endpoint register/,
    );
    expect(stranger.state).toBe("stopped");
    await stranger.close();
  });

  it("re-sends a result spooled by an earlier run when it starts", async () => {
    const taskId = newTaskId();
    const spooled = {
      result: {
        v: 1,
        taskId,
        sessionId: h.sessionId,
        topic: "default",
        attempt: 1,
        ok: true,
        value: { inline: "from the spool" },
        timings: { created: 1, sent: 2, received: 3, resultSent: 4 },
        worker: { endpointId: h.endpointId, host: "old", pid: 1 },
      },
      replyTo: h.resultQueueUrl,
      taskQueueUrl: h.taskQueueUrl,
      receiptHandle: "expired-receipt",
      spooledAt: Date.now(),
    };
    const dir = join(h.dir, "spool-restart", h.endpointId);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${taskId}-1.json`), JSON.stringify(spooled));
    const second = new EndpointAgent({
      endpointId: h.endpointId,
      config: await h.config({ spoolDir: join(h.dir, "spool-restart") }),
      deps: h.deps(),
    });
    await second.start();
    try {
      const result = await h.results.waitFor(taskId);
      expect(result.ok && result.value).toEqual({ inline: "from the spool" });
      await waitUntil(() => readdirSync(dir).length === 0, 5_000, "spool emptied");
    } finally {
      await second.close();
    }
  });
});
