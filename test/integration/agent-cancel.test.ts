import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EndpointAgent } from "#agent/index.ts";
import type { FunctionRef, ResultMessage } from "#core/protocol/index.ts";
import { type Harness, startHarness, waitUntil } from "./agent-harness.ts";

/**
 * Cancellation end to end: the client's cancelTasks and the agent's listCancellations go
 * through the real registration service (its handler over the emulator), as the Lambda would.
 */
describe("cancelling tasks", () => {
  let h: Harness;
  let agent: EndpointAgent;
  /** Writes args.path (so a run leaves a trace), then sleeps args.ms. */
  let marks: FunctionRef;

  beforeAll(async () => {
    h = await startHarness();
    marks = await h.registerNode(
      "marks",
      `import { writeFileSync } from "node:fs";
       export default async (a: { path: string; ms: number }) => {
         writeFileSync(a.path, String(process.pid));
         console.error("running", a.ms);
         await new Promise((r) => setTimeout(r, a.ms));
         return "done";
       };`,
    );
    agent = new EndpointAgent({
      endpointId: h.endpointId,
      // One slot: a second task waits in the queue while the first runs.
      config: await h.config({ workers: 1, cancelPollIntervalSeconds: 1, killGraceSeconds: 1 }),
      deps: h.deps(),
    });
    await agent.start();
    h.results.start();
  });

  afterAll(async () => {
    await agent?.close("test over");
    await h?.close();
  });

  const errorOf = (result: ResultMessage) => (result.ok ? undefined : result.error);

  it("never runs a queued task that was cancelled, and says so", async () => {
    const busyMark = join(h.dir, "busy");
    const busy = await h.sendTask(marks, { path: busyMark, ms: 3_000 });
    await waitUntil(() => existsSync(busyMark), 10_000, "the long task to start");

    const queuedMark = join(h.dir, "queued-ran");
    const queued = await h.sendTask(marks, { path: queuedMark, ms: 0 });
    expect(await h.cancelTasks([queued])).toBe(1);

    expect((await h.results.waitFor(busy)).ok).toBe(true);
    const result = await h.results.waitFor(queued);
    expect(errorOf(result)).toEqual({
      type: "Cancelled",
      message: "cancelled before it started",
      retriable: false,
    });
    expect(result.timings.started).toBeUndefined();
    expect(result.worker.pid).toBe(process.pid);
    // A run that started would have written its mark before any result for it was sent.
    expect(existsSync(queuedMark)).toBe(false);
  });

  it("admits a backlog with about one listing a second, not a call per receive, and cancels exactly the cancelled", async () => {
    const busyMark = join(h.dir, "backlog-busy");
    const busy = await h.sendTask(marks, { path: busyMark, ms: 1_500 });
    await waitUntil(() => existsSync(busyMark), 10_000, "the long task to start");
    // Sixty tasks wait behind it, more than a second each: every one may have been cancelled.
    const backlog: string[] = [];
    for (let i = 0; i < 60; i++) {
      backlog.push(await h.sendTask(marks, { path: join(h.dir, `backlog-${i}`), ms: 0 }));
    }
    const cancelled = backlog.filter((_, i) => i % 6 === 0);
    expect(await h.cancelTasks(cancelled)).toBe(cancelled.length);
    const listingsBefore = h.controlCalls("listCancellations");
    const started = Date.now();

    await h.results.waitFor(busy);
    const results = await Promise.all(backlog.map((id) => h.results.waitFor(id, 30_000)));
    const elapsedSeconds = (Date.now() - started) / 1_000;
    const isCancelled = (r: ResultMessage) => errorOf(r)?.type === "Cancelled";
    expect(results.filter(isCancelled).map((r) => r.taskId)).toEqual(cancelled);
    expect(results.filter((r) => r.ok)).toHaveLength(backlog.length - cancelled.length);
    // One slot takes the backlog a message at a time: a check per receive would be 60 calls.
    // Listings come at most about once a second for checks and once a second for the
    // running tasks' watch (cancelPollIntervalSeconds 1), however long the machine took.
    const listings = h.controlCalls("listCancellations") - listingsBefore;
    expect(listings).toBeLessThanOrEqual(2 * Math.ceil(elapsedSeconds) + 2);
    expect(listings).toBeLessThan(backlog.length / 2);
  });

  it("stops a running node task, says Cancelled, and serves the next task on a fresh worker", async () => {
    const started = join(h.dir, "node-started");
    const taskId = await h.sendTask(marks, { path: started, ms: 30_000 });
    await waitUntil(() => existsSync(started), 10_000, "the task to start");
    await h.cancelTasks([taskId]);

    const result = await h.results.waitFor(taskId, 20_000);
    expect(errorOf(result)).toMatchObject({ type: "Cancelled", retriable: false });
    expect(errorOf(result)?.message).toMatch(/^cancelled while running after \d+(\.\d)? s$/);
    expect(result.stderrTail).toContain("running 30000");
    // Stopped, not finished: it ended before its own 30 s sleep could have.
    expect((result.timings.ended ?? Infinity) - (result.timings.started ?? 0)).toBeLessThan(30_000);
    const cancelledPid = result.worker.pid;
    expect(cancelledPid).toBe(Number(readFileSync(started, "utf8")));

    const path = join(h.dir, "after");
    const next = await h.results.waitFor(await h.sendTask(marks, { path, ms: 0 }));
    expect(next).toMatchObject({ ok: true, value: { inline: "done" } });
    expect(agent.state).toBe("running");
    // The cancelled task's worker is gone; a new one ran this task.
    expect(() => process.kill(cancelledPid, 0)).toThrow();
    expect(Number(readFileSync(path, "utf8"))).not.toBe(cancelledPid);
  });

  it("stops a running shell task (its whole process group) the same way", async () => {
    const started = join(h.dir, "shell-started");
    const after = join(h.dir, "shell-after-sleep");
    const shell = await h.registerShell("sleeps", [
      "sh",
      "-c",
      'touch "$0"; sleep 30; touch "$1"; echo 1',
      started,
      after,
    ]);
    const taskId = await h.sendTask(shell, {});
    await waitUntil(() => existsSync(started), 10_000, "the shell task to start");
    await h.cancelTasks([taskId]);

    const result = await h.results.waitFor(taskId, 20_000);
    expect(errorOf(result)?.type).toBe("Cancelled");
    expect(errorOf(result)?.message).toMatch(/^cancelled while running after/);
    // The group was stopped before its 30 s sleep ended: the command after it never ran.
    expect(existsSync(after)).toBe(false);
  });

  it("changes nothing for a task cancelled after it finished: one result", async () => {
    const result = await h.results.waitFor(
      await h.sendTask(marks, { path: join(h.dir, "finished"), ms: 0 }),
    );
    expect(result.ok).toBe(true);
    await h.cancelTasks([result.taskId]);
    // A later task's result proves the agent went on past the cancellation; the empty queues,
    // that no second result for the first is on its way.
    const later = await h.sendTask(marks, { path: join(h.dir, "later"), ms: 0 });
    await h.results.waitFor(later);
    await h.drained();
    expect(h.results.byTask(result.taskId)).toHaveLength(1);
  });
});
