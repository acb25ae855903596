// `ferry logs --follow` through the real path: a real agent publishes a running task's output
// to the store, the `ferry` binary (a child process) prints it while the task runs, and exits
// with the task's outcome once it ends. Tasks wait on files the test creates: no fixed sleeps.
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import type { EndpointRecord } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { type Executor, executorFor } from "#sdk/index.ts";
import {
  type CliResult,
  connectForTest,
  ferryEnv,
  runFerry,
  runFerryJson,
  startTestAgent,
} from "../helpers/ferry.ts";

const FERRY_BIN = fileURLToPath(new URL("../../bin/ferry.js", import.meta.url));
const suffix = Math.random().toString(36).slice(2, 8);
const fn = `wait-${suffix}`;
let conn: Connection;
let dir: string;
let endpoint: EndpointRecord;
let agent: AgentProcess | undefined;
let executor: Executor;

beforeAll(async () => {
  conn = await connectForTest();
  dir = await mkdtemp(join(tmpdir(), "ferry-follow-"));
  endpoint = await runFerryJson<EndpointRecord>(["endpoint", "register", `follow-${suffix}`]);
  agent = await startTestAgent(endpoint.endpointId, {
    workers: 2,
    heartbeatIntervalSeconds: 1,
    liveLogIntervalSeconds: 1,
  });
  await runFerryJson([
    "function",
    "register",
    "test/fixtures/functions/wait-for-file.ts",
    "--name",
    fn,
  ]);
  executor = executorFor(conn);
}, 120_000);

afterAll(async () => {
  await executor?.close({ closeSession: true }).catch(() => undefined);
  await agent?.stop(10_000);
  conn?.close();
});

/** `ferry logs --follow` as a child process whose output can be read while it runs. */
function follow(taskId: string, extra: string[] = []) {
  const child = spawn(process.execPath, [FERRY_BIN, "logs", "--follow", taskId, ...extra], {
    env: ferryEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<CliResult>((resolve) =>
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr })),
  );
  return { stdout: () => stdout, exited, kill: () => child.kill() };
}

/** Poll a condition every 100 ms until it holds. */
async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const count = (text: string, part: string) => text.split(part).length - 1;

/** Submit a task that prints "started <word>" and waits for `gate` to exist. */
async function submitWaiting(word: string, gate: string, fail = false) {
  const future = await executor.submit(
    fn,
    { path: gate, word, ...(fail ? { fail } : {}) },
    { endpointId: endpoint.endpointId },
  );
  let ended = false;
  void future.result.then(() => {
    ended = true;
  });
  return { future, ended: () => ended };
}

/**
 * A task whose output the agent published while it ran: followed until its first line shows,
 * then let go. Resolves with its task id once it has ended.
 */
async function publishedTask(word: string): Promise<string> {
  const gate = join(dir, `gate-${word}`);
  const { future } = await submitWaiting(word, gate);
  const f = follow(future.taskId);
  try {
    await until("the running task's first line", () => f.stdout().includes(`started ${word}`));
    await writeFile(gate, "");
    expect((await f.exited).code).toBe(0);
    expect((await future.result).ok).toBe(true);
    return future.taskId;
  } finally {
    f.kill();
  }
}

describe("ferry logs --follow", () => {
  it("shows a running task's output while it runs, then the rest, and exits 0 when it ends", async () => {
    const gate = join(dir, "gate-ok");
    const { future, ended } = await submitWaiting("kumquat", gate);
    const f = follow(future.taskId);
    try {
      await until("the running task's first line", () => f.stdout().includes("started kumquat"));
      // Shown while the task is still running: it cannot end before the gate exists.
      expect(ended()).toBe(false);
      expect(f.stdout()).not.toContain("finishing kumquat");
      await writeFile(gate, "");
      const r = await f.exited;
      expect(r.code).toBe(0);
      // Each line once: later records repeat what earlier ones showed, the printer does not.
      expect(count(r.stdout, "started kumquat")).toBe(1);
      expect(count(r.stdout, "finishing kumquat")).toBe(1);
      expect(r.stderr).toContain("stderr of kumquat");
      expect((await future.result).ok).toBe(true);
    } finally {
      f.kill();
    }
  });

  it("exits 1 and says why when the followed task fails", async () => {
    const gate = join(dir, "gate-fail");
    const { future, ended } = await submitWaiting("quince", gate, true);
    const f = follow(future.taskId);
    try {
      await until("the running task's first line", () => f.stdout().includes("started quince"));
      expect(ended()).toBe(false);
      await writeFile(gate, "");
      const r = await f.exited;
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("finishing quince");
      expect(r.stderr).toMatch(/task .* failed: FunctionError: Error: quince was asked to fail/);
    } finally {
      f.kill();
    }
  });

  it("on a task that has already ended prints its output and exits at once", async () => {
    // One that ran past the agent's interval (published), and one that ended sooner (its
    // output comes from the result's tails only).
    const followedTaskId = await publishedTask("loquat");
    const gate = join(dir, "gate-open");
    await writeFile(gate, "");
    const { future: quick } = await submitWaiting("medlar", gate);
    expect((await quick.result).ok).toBe(true);
    for (const [taskId, word] of [
      [followedTaskId, "loquat"],
      [quick.taskId, "medlar"],
    ] as const) {
      const r = await runFerry(["logs", "--follow", taskId], { timeoutMs: 30_000 });
      expect(r.code).toBe(0);
      expect(count(r.stdout, `started ${word}`)).toBe(1);
      expect(count(r.stdout, `finishing ${word}`)).toBe(1);
      expect(r.stderr).toContain(`stderr of ${word}`);
    }
    const json = await runFerry(["logs", "--follow", followedTaskId, "--json"]);
    expect(json.code).toBe(0);
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toEqual({ taskId: followedTaskId, state: "done", ok: true });
    expect(
      lines
        .filter((l) => l.stream === "stdout")
        .map((l) => l.text)
        .join(""),
    ).toBe("started loquat\nfinishing loquat\n");
  });
});
