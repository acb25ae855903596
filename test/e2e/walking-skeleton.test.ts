// The whole path, no mocks: the deployment from global setup (emulator + registration Lambda
// bundle behind the Invoke API), the real `ferry` CLI and a real agent child process.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import { newTaskId } from "#core/ids.ts";
import type { EndpointRecord, FunctionRecord, ResultMessage } from "#core/protocol/index.ts";
import { PROTOCOL_VERSION, ResultMessage as ResultSchema } from "#core/protocol/index.ts";
import { type AgentProcess, spawnAgent } from "#local/index.ts";
import { connectForTest, ferryEnv, runFerry, runFerryJson } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
let conn: Connection;
let endpoint: EndpointRecord;
let agent: AgentProcess;
let workDir: string;
const SUMSQ = "examples/functions/sum-squares.ts";

beforeAll(async () => {
  conn = await connectForTest();
  workDir = await mkdtemp(join(tmpdir(), "ferry-e2e-"));
  endpoint = await runFerryJson<EndpointRecord>(["endpoint", "register", `e2e-${suffix}`]);
  agent = spawnAgent({ endpointId: endpoint.endpointId, env: ferryEnv() });
  // Every test can use it, in any order; the CLI test registers it again (idempotent).
  await runFerryJson(["function", "register", SUMSQ, "--name", `sumsq-${suffix}`]);
});

afterAll(async () => {
  await agent?.stop(10_000);
  conn?.close();
});

describe("walking skeleton through the CLI", () => {
  it("registers the endpoint with a task queue and lists it", async () => {
    expect(endpoint.queueUrl).toContain(endpoint.endpointId);
    const list = await runFerryJson<Array<{ endpoint: EndpointRecord }>>(["endpoint", "list"]);
    expect(list.map((e) => e.endpoint.endpointId)).toContain(endpoint.endpointId);
  });

  it("registers a function and runs it on the endpoint, printing the right value", async () => {
    const fn = await runFerryJson<FunctionRecord>([
      "function",
      "register",
      "examples/functions/sum-squares.ts",
      "--name",
      `sumsq-${suffix}`,
    ]);
    expect(fn.sha256).toMatch(/^[0-9a-f]{64}$/);
    const run = await runFerry([
      "run",
      `sumsq-${suffix}`,
      "--endpoint",
      endpoint.endpointId,
      "--args",
      '{"n": 10}',
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ n: 10, sum: 285 });
  });

  it("a function that throws gives a failed result carrying its message", async () => {
    const file = join(workDir, "boom.ts");
    await writeFile(
      file,
      'export default () => { throw new Error("the flux capacitor is empty"); };\n',
    );
    await runFerryJson(["function", "register", file, "--name", `boom-${suffix}`]);
    const run = await runFerry(["run", `boom-${suffix}`, "--endpoint", `e2e-${suffix}`, "--json"]);
    expect(run.code).toBe(1);
    const result = ResultSchema.parse(JSON.parse(run.stdout));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.type).toBe("FunctionError");
      expect(result.error.message).toContain("the flux capacitor is empty");
    }
    expect(run.stderr).toContain("the flux capacitor is empty");
  });

  it("refuses an unknown function at the CLI with a one-line error that says what to do", async () => {
    const run = await runFerry(["run", `nope-${suffix}`, "--endpoint", endpoint.endpointId]);
    expect(run.code).toBe(3);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/nope-.*ferry function register/);
  });
});

describe("the agent under bad input", () => {
  async function openSession() {
    const { session } = await conn.control.call("openSession", {});
    return session;
  }
  async function receiveOne(queueUrl: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const out = await conn.aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          WaitTimeSeconds: 5,
          MaxNumberOfMessages: 1,
        }),
      );
      const body = out.Messages?.[0]?.Body;
      if (body !== undefined) return body;
    }
    throw new Error(`nothing arrived on ${queueUrl}`);
  }
  function task(
    sessionId: string,
    replyTo: string,
    fn: { name: string; sha256: string },
    args: unknown,
  ) {
    const now = Date.now();
    return {
      v: PROTOCOL_VERSION,
      taskId: newTaskId(),
      sessionId,
      endpointId: endpoint.endpointId,
      function: fn,
      topic: "default",
      args: { inline: args },
      replyTo,
      walltimeSeconds: 60,
      maxAttempts: 3,
      resources: { cpus: 1, gpus: 0 },
      created: now,
      sent: now,
    };
  }

  it("an unknown function gives an UnknownFunction result, then a malformed task goes to the DLQ, and the agent keeps serving", async () => {
    const session = await openSession();
    const unknown = task(
      session.sessionId,
      session.resultQueueUrl,
      { name: `ghost-${suffix}`, sha256: "0".repeat(64) },
      {},
    );
    await conn.aws.sqs.send(
      new SendMessageCommand({ QueueUrl: endpoint.queueUrl, MessageBody: JSON.stringify(unknown) }),
    );
    const r1 = ResultSchema.parse(
      JSON.parse(await receiveOne(session.resultQueueUrl)),
    ) as ResultMessage;
    expect(r1.taskId).toBe(unknown.taskId);
    expect(r1.ok).toBe(false);
    if (!r1.ok) expect(r1.error.type).toBe("UnknownFunction");

    const marker = `not-a-task-${suffix}`;
    await conn.aws.sqs.send(
      new SendMessageCommand({ QueueUrl: endpoint.queueUrl, MessageBody: marker }),
    );
    let dead = "";
    for (let i = 0; i < 10 && !dead.includes(marker); i++)
      dead = await receiveOne(conn.deployment.deadLetterQueueUrl);
    expect(dead).toContain(marker);

    const { function: fn } = await conn.control.call("getFunction", { name: `sumsq-${suffix}` });
    const ok = task(session.sessionId, session.resultQueueUrl, fn, { n: 4 });
    await conn.aws.sqs.send(
      new SendMessageCommand({ QueueUrl: endpoint.queueUrl, MessageBody: JSON.stringify(ok) }),
    );
    const r2 = ResultSchema.parse(JSON.parse(await receiveOne(session.resultQueueUrl)));
    expect(r2.taskId).toBe(ok.taskId);
    expect(r2.ok && "inline" in r2.value ? r2.value.inline : undefined).toEqual({ n: 4, sum: 14 });
    expect(agent.child.exitCode).toBeNull();
    await conn.control.call("closeSession", { sessionId: session.sessionId });
  });
});
