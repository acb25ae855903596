// Each CLI command through the real path: the `ferry` binary as a child process, the suite's
// deployment (emulator + registration Lambda bundle) and real agents.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import type { EndpointRecord, EndpointView, FunctionRecord } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { executorFor } from "#sdk/index.ts";
import { connectForTest, runFerry, runFerryJson, startTestAgent } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
let conn: Connection;
let dir: string;
let endpoint: EndpointRecord;
const agents: AgentProcess[] = [];

async function startAgent(endpointId: string, config: Record<string, unknown>): Promise<void> {
  agents.push(await startTestAgent(endpointId, config));
}

beforeAll(async () => {
  conn = await connectForTest();
  dir = await mkdtemp(join(tmpdir(), "ferry-cli-"));
  endpoint = await runFerryJson<EndpointRecord>(["endpoint", "register", `cli-${suffix}`]);
  await startAgent(endpoint.endpointId, { workers: 4, heartbeatIntervalSeconds: 1 });
  for (const name of ["echo", "chatty", "sleep"]) {
    await runFerryJson([
      "function",
      "register",
      `test/fixtures/functions/${name}.ts`,
      "--name",
      `${name}-${suffix}`,
    ]);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop(10_000)));
  conn?.close();
});

describe("endpoint commands", () => {
  it("list and status show the endpoint online with its agent's slots", async () => {
    const list = await runFerryJson<EndpointView[]>(["endpoint", "list"]);
    const mine = list.find((v) => v.endpoint.endpointId === endpoint.endpointId);
    expect(mine?.status).toBe("online");
    const status = await runFerryJson<EndpointView>(["endpoint", "status", `cli-${suffix}`]);
    expect(status.agents).toHaveLength(1);
    expect(status.agents[0]?.slots.total).toBe(4);
    const human = await runFerry(["endpoint", "status", endpoint.endpointId]);
    expect(human.stdout).toMatch(/online/);
  });

  it("an unknown endpoint is a one-line error with the fix, exit 3", async () => {
    const r = await runFerry(["endpoint", "status", `nowhere-${suffix}`]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/no endpoint named nowhere-.*ferry endpoint register/);
  });
});

describe("function commands", () => {
  it("list shows registered node functions with their hashes", async () => {
    const fns = await runFerryJson<FunctionRecord[]>(["function", "list"]);
    const echo = fns.find((f) => f.name === `echo-${suffix}`);
    expect(echo?.spec.kind).toBe("node");
    expect(echo?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a shell function runs its argv without a shell, JSON in and out", async () => {
    const fn = await runFerryJson<FunctionRecord>([
      "function",
      "register",
      "--name",
      `cat-${suffix}`,
      "--shell",
      "cat",
    ]);
    expect(fn.spec).toEqual({ kind: "shell", argv: ["cat"] });
    const r = await runFerry([
      "run",
      `cat-${suffix}`,
      "-e",
      endpoint.endpointId,
      "--args",
      '{"a": [1, 2]}',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ args: { a: [1, 2] } });
  });

  it("a missing file is a one-line error", async () => {
    const r = await runFerry(["function", "register", "nope.ts", "--name", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/function file not found: nope\.ts/);
  });
});

describe("submit, tasks, logs, sessions", () => {
  it("1,000 tasks from JSON lines all come back exactly once", async () => {
    const file = join(dir, "tasks.jsonl");
    const lines = Array.from({ length: 1_000 }, (_, i) => JSON.stringify({ args: { i } }));
    await writeFile(file, `${lines.join("\n")}\n`);
    const r = await runFerry(["submit", file, "-f", `echo-${suffix}`, "-e", endpoint.endpointId], {
      timeoutMs: 600_000,
    });
    expect(r.code).toBe(0);
    const results = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { line: number; ok: boolean; value: { i: number } });
    expect(results).toHaveLength(1_000);
    expect(new Set(results.map((x) => x.value.i)).size).toBe(1_000);
    for (const x of results) expect(x.value.i).toBe(x.line - 1);
    expect(r.stderr).toMatch(/1000 succeeded, 0 failed/);
  }, 600_000);

  it("tasks lists the session's tasks; logs shows a task's stdout and stderr", async () => {
    const file = join(dir, "chatty.jsonl");
    await writeFile(
      file,
      `${JSON.stringify({ function: `chatty-${suffix}`, args: { word: "marmalade" } })}\n`,
    );
    const sub = await runFerry(["submit", file, "-e", `cli-${suffix}`, "--keep-session"]);
    expect(sub.code).toBe(0);
    const { taskId } = JSON.parse(sub.stdout) as { taskId: string };
    const tasks = await runFerryJson<{
      sessionId: string;
      tasks: Array<{ taskId: string; state: string }>;
    }>(["tasks"]);
    expect(tasks.tasks).toEqual([expect.objectContaining({ taskId, state: "done" })]);
    const logs = await runFerryJson<{ stdoutTail: string; stderrTail: string }>(["logs", taskId]);
    expect(logs.stdoutTail).toContain("stdout says marmalade");
    expect(logs.stderrTail).toContain("stderr says marmalade");
    const sessions = await runFerryJson<Array<{ sessionId: string; closed: boolean }>>([
      "session",
      "list",
    ]);
    expect(sessions[0]).toMatchObject({ sessionId: tasks.sessionId, closed: false });
    const closed = await runFerry(["session", "close", tasks.sessionId]);
    expect(closed.code).toBe(0);
    const after = await runFerryJson<Array<{ sessionId: string; closed: boolean }>>([
      "session",
      "list",
    ]);
    expect(after.find((s) => s.sessionId === tasks.sessionId)?.closed).toBe(true);
  });

  it("bad input loses nothing: a bad line refuses the whole file before sending", async () => {
    const file = join(dir, "bad.jsonl");
    await writeFile(file, `{"args": 1}\n{"args": 2, "colour": "red"}\n`);
    const r = await runFerry(["submit", file, "-f", `echo-${suffix}`, "-e", endpoint.endpointId]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 2: .*colour/);
    const missing = await runFerry(["submit", join(dir, "none.jsonl"), "-f", "x", "-e", "y"]);
    expect(missing.stderr).toMatch(/tasks file not found/);
    const badArgs = await runFerry([
      "run",
      `echo-${suffix}`,
      "-e",
      endpoint.endpointId,
      "--args",
      "{oops",
    ]);
    expect(badArgs.code).toBe(2);
    expect(badArgs.stderr).toMatch(/--args is not valid JSON/);
  });
});

describe("cancel", () => {
  it("a queued task never runs and a running task is stopped; both results say Cancelled", async () => {
    const slow = await runFerryJson<EndpointRecord>(["endpoint", "register", `cancel-${suffix}`]);
    await startAgent(slow.endpointId, {
      workers: 1,
      heartbeatIntervalSeconds: 1,
      cancelPollIntervalSeconds: 1,
    });
    const executor = executorFor(conn);
    try {
      // Submitted one after the other: a standard queue keeps no order, so a batch of both
      // could reach the single slot echo first.
      const running = await executor.submit(
        `sleep-${suffix}`,
        { ms: 60_000 },
        {
          endpointId: slow.endpointId,
        },
      );
      // Wait until the first task is running (the agent's heartbeat lists it).
      let seenRunning = false;
      for (let i = 0; i < 300 && !seenRunning; i++) {
        const view = await conn.control.call("describeEndpoint", { endpointId: slow.endpointId });
        seenRunning = view.agents.some((a) => a.runningTaskIds.includes(running.taskId));
        if (!seenRunning) await new Promise((r) => setTimeout(r, 200));
      }
      expect(seenRunning).toBe(true);
      // The one slot is busy: this task waits behind the sleep.
      const queued = await executor.submit(
        `echo-${suffix}`,
        { never: true },
        {
          endpointId: slow.endpointId,
        },
      );
      const c1 = await runFerry(["cancel", queued.taskId]);
      expect(c1.code).toBe(0);
      // The queued task waits in the agent's prefetch; at its start the agent asks again only
      // when its last check is over a second old (FRESH_MESSAGE_MS), so a cancellation within
      // that second may be missed by design. Let a heartbeat a second later show it passed.
      const cancelledAt = Date.now();
      for (let i = 0; i < 300; i++) {
        const view = await conn.control.call("describeEndpoint", { endpointId: slow.endpointId });
        if ((view.lastHeartbeat ?? 0) >= cancelledAt + 1_000) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const c2 = await runFerry(["cancel", running.taskId]);
      expect(c2.code).toBe(0);
      const [r1, r2] = await Promise.all([running.result, queued.result]);
      expect(r1.ok).toBe(false);
      expect(r2.ok).toBe(false);
      if (!r1.ok) expect(r1.error.type).toBe("Cancelled");
      if (!r2.ok) expect(r2.error.type).toBe("Cancelled");
      // Stopped while running: had it not been, its 60 s sleep would have ended first.
      if (!r1.ok) expect(r1.error.message).toMatch(/cancelled while running/);
      if (!r2.ok) expect(r2.error.message).toMatch(/cancelled before it started/);
      expect((r1.timings.ended ?? r1.timings.resultSent) - (r1.timings.started ?? 0)).toBeLessThan(
        60_000,
      );
    } finally {
      await executor.close({ closeSession: true });
    }
  }, 120_000);
});

describe("local deployment commands", () => {
  it("without a deployment every command says how to make one; local up/status/down manage one", async () => {
    const home = await mkdtemp(join(tmpdir(), "ferry-home-"));
    const env: NodeJS.ProcessEnv = { ...process.env, FERRY_HOME: home, FERRY_LOG_LEVEL: "warn" };
    delete env.FERRY_DEPLOYMENT;
    const none = await runFerry(["endpoint", "list"], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no Ferry deployment found.*ferry local up/);
    const up = await runFerry(["local", "up", "--json"], { env, timeoutMs: 120_000 });
    expect(up.code).toBe(0);
    try {
      expect(JSON.parse(up.stdout)).toMatchObject({ started: true });
      const status = await runFerry(["local", "status"], { env });
      expect(status.stdout).toMatch(/^running/);
      const reg = await runFerry(["endpoint", "register", "x", "--json"], { env });
      expect(reg.code).toBe(0);
    } finally {
      const down = await runFerry(["local", "down"], { env });
      expect(down.stdout).toMatch(/stopped/);
    }
    const after = await runFerry(["local", "status"], { env });
    expect(after.code).toBe(1);
  }, 400_000);
});
