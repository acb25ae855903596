// Nothing lost on the client side: one bad result is that task's error, a session is not closed
// while tasks are outstanding, and results an agent could not deliver (the session's queue was
// gone) are parked and still found by `ferry results` and `ferry tasks`.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import type { EndpointRecord } from "#core/protocol/index.ts";
import { type AgentProcess, spawnAgent } from "#local/index.ts";
import { executorFor } from "#sdk/index.ts";
import {
  connectForTest,
  ferryEnv,
  runFerry,
  runFerryJson,
  startTestAgent,
} from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
let conn: Connection;
let dir: string;
let endpoint: EndpointRecord;
const agents: AgentProcess[] = [];

async function startAgent(endpointId: string): Promise<AgentProcess> {
  const agent = await startTestAgent(endpointId, {
    workers: 2,
    heartbeatIntervalSeconds: 1,
    replyRefusalWindowSeconds: 2,
  });
  agents.push(agent);
  return agent;
}

interface Line {
  line?: number;
  taskId: string;
  ok: boolean;
  value?: { i: number };
  error?: { type: string; message: string };
}
const linesOf = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);

beforeAll(async () => {
  conn = await connectForTest();
  dir = await mkdtemp(join(tmpdir(), "ferry-delivery-"));
  endpoint = await runFerryJson<EndpointRecord>(["endpoint", "register", `deliv-${suffix}`]);
  for (const name of ["bigint", "echo"]) {
    const file = `test/fixtures/functions/${name}.ts`;
    await runFerryJson(["function", "register", file, "--name", `${name}-${suffix}`]);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop(10_000)));
  conn?.close();
});

it("a result JSON cannot show (a BigInt) fails that task only; every other result arrives", async () => {
  await startAgent(endpoint.endpointId);
  const file = join(dir, "bigint.jsonl");
  const lines = [0, 1, 2, 3, 4].map((i) => JSON.stringify({ args: { i, big: i === 2 } }));
  await writeFile(file, `${lines.join("\n")}\n`);
  const r = await runFerry(["submit", file, "-f", `bigint-${suffix}`, "-e", endpoint.endpointId]);
  expect(r.code, r.stderr).toBe(1);
  const results = linesOf(r.stdout);
  expect(results).toHaveLength(5);
  const byLine = new Map(results.map((x) => [x.line, x]));
  for (const line of [1, 2, 4, 5]) expect(byLine.get(line)).toMatchObject({ ok: true });
  const bad = byLine.get(3);
  expect(bad).toMatchObject({ ok: false, error: { type: "ResultNotJson" } });
  expect(bad?.error?.message).toMatch(/bigint at value\.count/);
  expect(r.stderr).toMatch(/4 succeeded, 1 failed/);
}, 120_000);

it("a session closed with tasks outstanding: their results are parked, and `ferry results` and `ferry tasks` find them", async () => {
  const idle = await runFerryJson<EndpointRecord>(["endpoint", "register", `idle-${suffix}`]);
  const file = join(dir, "queued.jsonl");
  await writeFile(file, `${[1, 2, 3].map((i) => JSON.stringify({ args: { i } })).join("\n")}\n`);
  // No agent yet: nothing can come back before the timeout, and the session must stay open.
  const sub = await runFerry([
    "submit",
    file,
    "-f",
    `echo-${suffix}`,
    "-e",
    idle.endpointId,
    "--timeout",
    "1",
  ]);
  expect(sub.code).toBe(124);
  const session = /session (\S+) kept open for 3 pending/.exec(sub.stderr)?.[1];
  expect(session, sub.stderr).toBeDefined();
  const sessionId = session ?? "";

  const refused = await runFerry(["session", "close", sessionId]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/has 3 task\(s\) without a result.*--force/);
  const forced = await runFerry(["session", "close", sessionId, "--force"]);
  expect(forced.code, forced.stderr).toBe(0);

  // The agent finds the session's queue gone and parks the results with the control plane.
  await startAgent(idle.endpointId);
  const deadline = Date.now() + 60_000;
  let collected: Line[] = [];
  while (Date.now() < deadline) {
    const r = await runFerry(["results", "--session", sessionId]);
    collected = linesOf(r.stdout);
    if (collected.length === 3) {
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/\(closed\): 3 result\(s\), 0 failed, 0 pending/);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  expect(collected.map((x) => x.value?.i).sort()).toEqual([1, 2, 3]);
  const tasks = await runFerryJson<{ tasks: Array<{ state: string }> }>([
    "tasks",
    "--session",
    sessionId,
  ]);
  expect(tasks.tasks.map((t) => t.state)).toEqual(["done", "done", "done"]);
}, 180_000);

it("an Executor whose result queue was deleted under it re-opens it and collects every result, parked or sent", async () => {
  const gone = await runFerryJson<EndpointRecord>(["endpoint", "register", `gone-${suffix}`]);
  const executor = executorFor(conn, { parkedCheckIntervalMs: 1_000 });
  try {
    const session = await executor.open();
    const futures = await executor.submitMany(
      [1, 2, 3].map((i) => ({
        function: `echo-${suffix}`,
        args: { i },
        endpointId: gone.endpointId,
      })),
    );
    // Someone deletes the queue by hand; the session itself stays open.
    await conn.aws.sqs.send(new DeleteQueueCommand({ QueueUrl: session.resultQueueUrl }));
    await startAgent(gone.endpointId);
    const results = await Promise.all(futures.map((f) => f.result));
    expect(results.map((r) => r.ok && r.value)).toEqual([1, 2, 3].map((i) => ({ inline: { i } })));
    expect(executor.pendingTaskIds()).toEqual([]);
  } finally {
    await executor.close({ closeSession: true });
  }
}, 120_000);

it("a walltime past what SQS can hold is refused before anything is sent, with the reason", async () => {
  const r = await runFerry([
    "run",
    `echo-${suffix}`,
    "-e",
    endpoint.endpointId,
    "--walltime",
    "50000",
  ]);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/walltime 50000 s: a task runs for 1 to 39600 s .*12 h/);
});

it("an agent started the moment its endpoint is registered waits out AWS's new-queue window and runs", async () => {
  // On the compat backend (npm run test:compat) the queue is unusable for ~1 s after CreateQueue.
  const fresh = await runFerryJson<EndpointRecord>(["endpoint", "register", `fresh-${suffix}`]);
  const path = join(dir, "site-fresh.json");
  await writeFile(path, JSON.stringify({ workers: 1, heartbeatIntervalSeconds: 1 }));
  const agent = spawnAgent({ endpointId: fresh.endpointId, env: ferryEnv(), configPath: path });
  agents.push(agent);
  const r = await runFerry(["run", `echo-${suffix}`, "-e", fresh.endpointId, "--args", '{"n": 7}']);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ n: 7 });
  expect(agent.child.exitCode).toBeNull();
}, 120_000);

it("a task whose maxAttempts exceeds the queue's redrive limit still gets a result on its last receive", async () => {
  // SQS moves a message to the DLQ itself after maxReceiveCount receives (5 in the stack),
  // where no agent sees it: the agent must report the task before that, not lose it.
  const late = await runFerryJson<EndpointRecord>(["endpoint", "register", `late-${suffix}`]);
  const executor = executorFor(conn);
  try {
    const future = await executor.submit(
      `echo-${suffix}`,
      { n: 1 },
      {
        endpointId: late.endpointId,
        maxAttempts: 10,
      },
    );
    // Four deliveries that never finished, as if four agents had died running it.
    for (let received = 0; received < 4; ) {
      const out = await conn.aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: late.queueUrl,
          VisibilityTimeout: 1,
          WaitTimeSeconds: 5,
        }),
      );
      received += out.Messages?.length ?? 0;
    }
    await startAgent(late.endpointId);
    const result = await future.result;
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.type).toBe("WorkerCrashed");
      expect(result.error.message).toMatch(
        /maxAttempts \(10, and the task queue's redrive policy allows 4 \(maxReceiveCount 5\)\)/,
      );
    }
  } finally {
    await executor.close({ closeSession: true });
  }
}, 120_000);
