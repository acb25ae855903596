import { existsSync, readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EndpointAgent, type SiteConfigInput } from "#agent/index.ts";
import { createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import type { FunctionRef } from "#core/protocol/index.ts";
import { type Harness, queueBodies, startHarness, waitUntil } from "./agent-harness.ts";
import { CuttableProxy } from "./cuttable-proxy.ts";

const POLL_WAIT_SECONDS = 1;

// A fresh emulator and registry for each test: a test's agents, killed or closed mid-poll,
// leave nothing behind (no message taken by a dead poll, no spool) for the next one to meet.
let h: Harness;
let work: FunctionRef;
beforeEach(async () => {
  h = await startHarness();
  h.results.start();
  // Writes a marker when it starts (so a test knows it is running), then sleeps `ms`, or until
  // the file `gate` exists (a task that cannot end before the test lets it).
  work = await h.registerNode(
    "work",
    `import { existsSync, writeFileSync } from "node:fs";
     export default async (a: { ms: number; marker?: string; gate?: string }) => {
       if (a.marker) writeFileSync(a.marker, String(process.pid));
       await new Promise((r) => setTimeout(r, a.ms));
       while (a.gate && !existsSync(a.gate)) await new Promise((r) => setTimeout(r, 50));
       return { slept: a.ms, pid: process.pid };
     };`,
  );
});
afterEach(async () => {
  await h?.close();
});

async function startAgent(overrides: Partial<SiteConfigInput> = {}, deps = h.deps()) {
  const agent = new EndpointAgent({
    endpointId: h.endpointId,
    config: await h.config({ pollWaitSeconds: POLL_WAIT_SECONDS, ...overrides }),
    deps,
  });
  await agent.start();
  return agent;
}

let markers = 0;
const marker = () => join(h.dir, `marker-${++markers}`);
const started = (path: string) => waitUntil(() => existsSync(path), 20_000, `task start (${path})`);
/** Running, not merely a zombie waiting for a reaper (an orphan's new parent may not reap). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
};

describe("delivery", () => {
  it("keeps a long task invisible past several visibility timeouts: one run, one result", async () => {
    // An idle second agent would take the message as soon as it became visible again.
    const config = { workers: 1, visibilityTimeoutSeconds: 2 };
    const agents = [await startAgent(config), await startAgent(config)];
    try {
      const taskId = await h.sendTask(work, { ms: 7_000 });
      const result = await h.results.waitFor(taskId, 30_000);
      expect(result.attempt).toBe(1);
      await h.drained();
      expect(h.results.byTask(taskId)).toHaveLength(1);
    } finally {
      await Promise.all(agents.map((a) => a.close()));
    }
  });

  it("sends a task received more than maxAttempts times to the DLQ with the reason", async () => {
    const taskId = await h.sendTask(work, { ms: 1 }, { maxAttempts: 1 });
    // A first delivery that never finished (as if its agent died).
    const first = await h.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: h.taskQueueUrl, VisibilityTimeout: 1 }),
    );
    expect(first.Messages).toHaveLength(1);
    // The agent receives it once its 1 s visibility ends: a second receive, over maxAttempts.
    const agent = await startAgent();
    try {
      const result = await h.results.waitFor(taskId);
      expect(!result.ok && result.error.type).toBe("WorkerCrashed");
      expect(!result.ok && result.error.message).toContain("maxAttempts (1)");
      const letter = queueBodies(h.server, h.dlqName).find((m) => m.body.includes(taskId));
      expect(letter?.messageAttributes.FerryReason?.StringValue).toContain("maxAttempts");
      await waitUntil(() => queueBodies(h.server, h.taskQueueName).length === 0, 5_000);
    } finally {
      await agent.close();
    }
  });

  it("retries a task later when the registry is unreachable", async () => {
    const agent = await startAgent();
    try {
      const fresh = await h.registerNode("fresh", "export default () => 'resolved';");
      h.failControl(2);
      const before = h.controlCalls();
      const taskId = await h.sendTask(fresh, {});
      const result = await h.results.waitFor(taskId, 40_000);
      expect(result.ok && result.value).toEqual({ inline: "resolved" });
      expect(result.attempt).toBe(3);
      expect(h.controlCalls() - before).toBe(3);
    } finally {
      await agent.close();
    }
  });

  it("re-sends results spooled during a 10 s network outage, each exactly once", async () => {
    const proxy = new CuttableProxy(h.server.port);
    await proxy.listen();
    const viaProxy = createAwsClients({
      region: "us-east-1",
      endpoints: { sqs: proxy.url, s3: proxy.url },
      credentials: EMULATOR_CREDENTIALS,
      maxAttempts: 1,
    });
    const agent = await startAgent({}, h.deps(viaProxy));
    const spoolDir = join(h.dir, "spool", h.endpointId);
    try {
      const ms = [marker(), marker()];
      const ids = [
        await h.sendTask(work, { ms: 1_000, marker: ms[0] }),
        await h.sendTask(work, { ms: 3_000, marker: ms[1] }),
      ];
      await Promise.all(ms.map((m) => started(m ?? "")));
      await proxy.cut();
      const outage = Date.now();
      // Both tasks ended during the outage: their results are in the spool, not sent.
      await waitUntil(
        () =>
          existsSync(spoolDir) &&
          readdirSync(spoolDir).filter((f) => f.endsWith(".json")).length === 2,
        20_000,
        "both results spooled",
      );
      // A third task is sent during the outage; the agent cannot see it yet.
      ids.push(await h.sendTask(work, { ms: 10 }));
      for (const id of ids) expect(h.results.byTask(id)).toHaveLength(0);
      // The outage lasts 10 s in all (the scenario's length, not a wait for something): long
      // enough for the spool's retries to back off more than once.
      await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - outage))));
      await proxy.listen();
      const results = await Promise.all(ids.map((id) => h.results.waitFor(id, 45_000)));
      for (const r of results) expect(r.ok).toBe(true);
      await waitUntil(() => readdirSync(spoolDir).length === 0, 10_000, "spool emptied");
      await h.drained();
      for (const id of ids) expect(h.results.byTask(id)).toHaveLength(1);
    } finally {
      await agent.close();
      viaProxy.destroy();
      await proxy.cut();
    }
  });
});

describe("shutdown", () => {
  it("drains: a short task finishes, a long one is released and finishes elsewhere", async () => {
    const a = await startAgent({ workers: 2, shutdownGraceSeconds: 1 });
    const short = marker();
    const long = marker();
    const gate = join(h.dir, "gate-drain");
    const shortId = await h.sendTask(work, { ms: 300, marker: short });
    const longId = await h.sendTask(work, { ms: 0, marker: long, gate });
    await Promise.all([started(short), started(long)]);
    // Bounded: close() returns while the long task cannot have ended (its gate is shut).
    await a.close("test drain");
    expect(a.state).toBe("stopped");
    expect((await h.results.waitFor(shortId)).ok).toBe(true);
    expect(h.results.byTask(longId)).toHaveLength(0);
    await writeFile(gate, "");
    const b = await startAgent();
    try {
      const result = await h.results.waitFor(longId, 30_000);
      expect(result.ok).toBe(true);
      expect(result.attempt).toBe(2);
      expect(h.results.byTask(longId)).toHaveLength(1);
    } finally {
      await b.close();
    }
  });

  it("SIGTERM makes a child agent drain within its grace and release its task", async () => {
    const child = await h.spawnAgent({ shutdownGraceSeconds: 1, pollWaitSeconds: 1 });
    const m = marker();
    const gate = join(h.dir, "gate-sigterm");
    const taskId = await h.sendTask(work, { ms: 0, marker: m, gate });
    await started(m);
    child.child.kill("SIGTERM");
    // It exits cleanly while its task cannot have ended (the gate is shut).
    const exit = await child.exited;
    expect(exit.code, child.stderr()).toBe(0);
    expect(h.results.byTask(taskId)).toHaveLength(0);
    await writeFile(gate, "");
    const b = await startAgent();
    try {
      const result = await h.results.waitFor(taskId, 30_000);
      expect(result.ok).toBe(true);
      expect(h.results.byTask(taskId)).toHaveLength(1);
    } finally {
      await b.close();
    }
  });

  it("kill -9 of an agent mid-task: the task finishes on another agent, one result", async () => {
    const child = await h.spawnAgent({ visibilityTimeoutSeconds: 2, pollWaitSeconds: 1 });
    const m = marker();
    const taskId = await h.sendTask(work, { ms: 1_500, marker: m });
    await started(m);
    const workerPid = Number(readFileSync(m, "utf8"));
    child.child.kill("SIGKILL");
    await child.exited;
    const b = await startAgent({ visibilityTimeoutSeconds: 2 });
    try {
      const result = await h.results.waitFor(taskId, 30_000);
      expect(result.ok).toBe(true);
      expect(result.attempt).toBe(2);
      await h.drained();
      expect(h.results.byTask(taskId)).toHaveLength(1);
      // The dead agent's worker noticed its parent was gone and left.
      await waitUntil(() => !alive(workerPid), 10_000, "orphaned worker exit");
    } finally {
      await b.close();
    }
  });

  it("a restarted agent stops the shell processes its killed predecessor left running", async () => {
    const mark = marker();
    // sh records its pid (the group's) and waits on a child: a whole group outlives the agent.
    const orphan = await h.registerShell("orphan", ["sh", "-c", `echo $$ > ${mark}; sleep 60`]);
    const child = await h.spawnAgent({ pollWaitSeconds: 1 });
    // Two attempts: the restarted agent may receive the task again once its visibility ends;
    // the point here is the reaping, not the attempt count.
    const taskId = await h.sendTask(orphan, {}, { walltimeSeconds: 120, maxAttempts: 2 });
    await started(mark);
    const pgid = Number(readFileSync(mark, "utf8"));
    child.child.kill("SIGKILL");
    await child.exited;
    const groupAlive = () => {
      try {
        process.kill(-pgid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // Its agent is gone and the group lives on: sleep 60 does not stop by itself.
    expect(groupAlive()).toBe(true);
    const b = await startAgent();
    try {
      await waitUntil(() => !groupAlive(), 10_000, "the orphaned process group stopped");
      expect(h.results.byTask(taskId).length).toBeLessThanOrEqual(1);
    } finally {
      await b.close();
    }
  });
});
