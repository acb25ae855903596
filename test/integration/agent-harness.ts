/**
 * A private emulator (fauxqs) with the resources one endpoint needs, the real registration
 * function (functions/registration's bundle, as `cdk deploy` ships it) behind the local Lambda
 * Invoke API, a ControlClient for the agent, and helpers to register functions, send tasks and
 * collect results. Used by the agent integration tests only.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { build } from "esbuild";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { inject } from "vitest";
import type { AgentDeps, SiteConfig, SiteConfigInput } from "#agent/index.ts";
import { EndpointAgent, loadSiteConfig } from "#agent/index.ts";
import { type AwsClients, createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import { ControlClient } from "#core/control/index.ts";
import { TransientError } from "#core/errors.ts";
import { newEndpointId, newSessionId, newTaskId } from "#core/ids.ts";
import { createLogger } from "#core/logger.ts";
import { bundleKey, queueNames, registryKeys } from "#core/names.ts";
import {
  type ControlAction,
  type FunctionRecord,
  type FunctionRef,
  type HeartbeatRecord,
  ResultMessage,
  shellFunctionSha256,
  type TaskMessageInput,
} from "#core/protocol/index.ts";
import { ESM_REQUIRE_BANNER, REGISTRATION_ENTRY } from "#infra/index.ts";
import { startLambdaHost } from "#local/index.ts";

import type { ChildSpec } from "./agent-child.ts";

const CHILD_SCRIPT = fileURLToPath(new URL("./agent-child.ts", import.meta.url));
const PREFIX = "ferry-";

export interface ChildAgent {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: string | null }>;
  stderr(): string;
}
const BUCKET = "ferry-store";

export interface Harness {
  server: FauxqsServer;
  aws: AwsClients;
  bucket: string;
  endpointId: string;
  sessionId: string;
  taskQueueName: string;
  taskQueueUrl: string;
  resultQueueUrl: string;
  dlqUrl: string;
  dlqName: string;
  dir: string;
  /** The registration function's Invoke API, for agents in child processes. */
  lambdaUrl: string;
  /** The agent's control client: the real one, counting calls and able to fail getFunction. */
  control: Pick<ControlClient, "call">;
  heartbeats: Array<Omit<HeartbeatRecord, "v" | "at">>;
  /** Results parked with the registration function for a session (the harness's by default). */
  parked(sessionId?: string): Promise<ResultMessage[]>;
  /**
   * Write a function record straight into the registry's bucket, past the registration
   * function's checks, as someone with write access to the bucket could.
   */
  forgeFunction(record: FunctionRecord): Promise<void>;
  /** The next `n` getFunction calls fail as if the registration service were unreachable. */
  failControl(n: number): void;
  /** Calls of `action` (getFunction unless named) made so far, failed ones included. */
  controlCalls(action?: ControlAction): number;
  /** Agent deps; `aws` replaces the clients (e.g. through a cuttable proxy). */
  deps(aws?: AwsClients): AgentDeps;
  /** Start an agent as a real child process; resolves once it is running. */
  spawnAgent(config?: Partial<SiteConfigInput>): Promise<ChildAgent>;
  config(overrides?: Partial<SiteConfigInput>): Promise<SiteConfig>;
  registerNode(name: string, source: string): Promise<FunctionRef>;
  registerShell(name: string, argv: string[]): Promise<FunctionRef>;
  /** Cancel tasks of the harness's session through `control`, as the client SDK does. */
  cancelTasks(taskIds: string[]): Promise<number>;
  sendTask(fn: FunctionRef, args: unknown, extra?: Partial<TaskMessageInput>): Promise<string>;
  sendRaw(body: string): Promise<void>;
  results: ResultCollector;
  /**
   * Resolves once the task queue and the result queue hold no message, ready or in flight:
   * every task message is deleted (none can be delivered again) and every result sent has
   * been collected. "No duplicate" is asserted after this, not after a sleep.
   */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const REGISTRATION = "ferry-registration";

export async function startHarness(): Promise<Harness> {
  const server = await startFauxqs({ port: 0, logger: false });
  const aws = createAwsClients({
    region: "us-east-1",
    endpoints: { sqs: server.address, s3: server.address },
    credentials: EMULATOR_CREDENTIALS,
    maxAttempts: 1,
  });
  const endpointId = newEndpointId();
  const sessionId = newSessionId();
  server.createBucket(BUCKET);
  const dlqName = queueNames.deadLetter(PREFIX);
  const dlq = server.createQueue(dlqName);
  const taskQueueName = queueNames.tasks(PREFIX, endpointId);
  const tasks = server.createQueue(taskQueueName);
  const results = server.createQueue(queueNames.results(PREFIX, sessionId));
  const dir = await mkdtemp(join(tmpdir(), "ferry-agent-test-"));
  const heartbeats: Harness["heartbeats"] = [];
  const logger = createLogger({}, { level: process.env.FERRY_LOG_LEVEL ?? "silent" });

  const lambda = await startLambdaHost([
    {
      name: REGISTRATION,
      bundleFile: await registrationBundle(dir),
      exportName: "handler",
      environment: {
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL: server.address,
        AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
        FERRY_BUCKET: BUCKET,
        FERRY_DLQ_ARN: dlq.queueArn,
        FERRY_QUEUE_PREFIX: PREFIX,
        FERRY_MAX_RECEIVE_COUNT: "10",
      },
    },
  ]);
  const lambdaAws = createAwsClients({
    region: "us-east-1",
    endpoints: { lambda: lambda.url },
    credentials: EMULATOR_CREDENTIALS,
    maxAttempts: 1,
  });
  const real = new ControlClient({ lambda: lambdaAws.lambda, functionName: REGISTRATION });
  let failuresLeft = 0;
  const calls = new Map<ControlAction, number>();
  // The real client, observed: tests count calls, make getFunction fail, read heartbeats.
  const control = {
    call(action, request, options) {
      calls.set(action, (calls.get(action) ?? 0) + 1);
      if (action === "getFunction") {
        if (failuresLeft > 0) {
          failuresLeft--;
          return Promise.reject(
            new TransientError("cannot reach the registration function (getFunction)"),
          );
        }
      }
      if (action === "heartbeat") {
        heartbeats.push(
          (request as unknown as { heartbeat: Harness["heartbeats"][number] }).heartbeat,
        );
      }
      return real.call(action, request, options);
    },
  } as Pick<ControlClient, "call">;
  // The real service keeps records: the endpoint (heartbeats need it) and the session.
  await real.call("registerEndpoint", { name: "agent-test", endpointId });
  await real.call("openSession", { sessionId });
  const registerFunction = async (record: FunctionRecord): Promise<FunctionRef> => {
    const { name, sha256, spec } = record;
    await real.call("registerFunction", { name, sha256, spec });
    return { name, sha256 };
  };

  const collector = new ResultCollector(aws, results.queueUrl);
  return {
    server,
    aws,
    bucket: BUCKET,
    endpointId,
    sessionId,
    taskQueueName,
    taskQueueUrl: tasks.queueUrl,
    resultQueueUrl: results.queueUrl,
    dlqUrl: dlq.queueUrl,
    dlqName,
    dir,
    lambdaUrl: lambda.url,
    control,
    heartbeats,
    async parked(of = sessionId) {
      const out: ResultMessage[] = [];
      let after: string | undefined;
      do {
        const page = await real.call("listParkedResults", {
          sessionId: of,
          ...(after ? { after } : {}),
        });
        out.push(...page.results.map((p) => p.result));
        after = page.next;
      } while (after !== undefined);
      return out;
    },
    async forgeFunction(record) {
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: registryKeys.function(record.name, record.sha256),
          Body: JSON.stringify(record),
        }),
      );
    },
    failControl: (n) => {
      failuresLeft = n;
    },
    controlCalls: (action = "getFunction") => calls.get(action) ?? 0,
    results: collector,
    drained: (timeoutMs = 20_000) =>
      waitUntil(
        () =>
          queueBodies(server, taskQueueName).length === 0 &&
          queueBodies(server, queueNames.results(PREFIX, sessionId)).length === 0,
        timeoutMs,
        "the task and result queues to empty",
      ),
    deps: (clients = aws) => ({
      sqs: clients.sqs,
      s3: clients.s3,
      control,
      bucket: BUCKET,
      queuePrefix: PREFIX,
      deadLetterQueueUrl: dlq.queueUrl,
      logger,
    }),
    config: (overrides = {}) =>
      loadSiteConfig(undefined, {
        workers: 2,
        cacheDir: join(dir, "cache"),
        scratchDir: join(dir, "scratch"),
        spoolDir: join(dir, "spool"),
        heartbeatIntervalSeconds: 1,
        killGraceSeconds: 1,
        shutdownGraceSeconds: 5,
        // Short, so a refused result is parked within a test's patience.
        replyRefusalWindowSeconds: 2,
        ...overrides,
      }),
    async spawnAgent(config = {}) {
      const spec: ChildSpec = {
        address: server.address,
        lambdaUrl: lambda.url,
        registrationFunction: REGISTRATION,
        endpointId,
        bucket: BUCKET,
        queuePrefix: PREFIX,
        deadLetterQueueUrl: dlq.queueUrl,
        config: {
          workers: 2,
          cacheDir: join(dir, "cache"),
          scratchDir: join(dir, "scratch"),
          spoolDir: join(dir, "spool"),
          killGraceSeconds: 1,
          ...config,
        },
      };
      const specFile = join(dir, `child-${Date.now()}-${Math.random()}.json`);
      await writeFile(specFile, JSON.stringify(spec));
      const child = spawn(process.execPath, [CHILD_SCRIPT, specFile], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, FERRY_LOG_LEVEL: process.env.FERRY_LOG_LEVEL ?? "warn" },
      });
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal })),
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (c: Buffer) => {
          if (c.toString().includes("ready")) resolve();
        });
        void exited.then(({ code }) => reject(new Error(`agent child exited ${code}: ${stderr}`)));
      });
      return { child, exited, stderr: () => stderr };
    },
    async registerNode(name, source) {
      const out = await build({
        stdin: { contents: source, loader: "ts", resolveDir: dir },
        bundle: true,
        format: "esm",
        platform: "node",
        write: false,
        logLevel: "silent",
      });
      const bytes = out.outputFiles[0]?.contents ?? new Uint8Array();
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      await aws.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: bundleKey(sha256), Body: bytes }),
      );
      return registerFunction({
        v: 1,
        name,
        sha256,
        spec: { kind: "node", bundleKey: bundleKey(sha256) },
        registeredAt: Date.now(),
      });
    },
    registerShell(name, argv) {
      const sha256 = shellFunctionSha256(argv);
      return registerFunction({
        v: 1,
        name,
        sha256,
        spec: { kind: "shell", argv },
        registeredAt: Date.now(),
      });
    },
    async cancelTasks(taskIds) {
      return (await real.call("cancelTasks", { sessionId, taskIds })).cancelled;
    },
    async sendTask(fn, args, extra = {}) {
      const taskId = newTaskId();
      const now = Date.now();
      const task: TaskMessageInput = {
        v: 1,
        taskId,
        sessionId,
        endpointId,
        function: fn,
        args: { inline: args as never },
        replyTo: results.queueUrl,
        created: now,
        sent: now,
        ...extra,
      };
      await aws.sqs.send(
        new SendMessageCommand({ QueueUrl: tasks.queueUrl, MessageBody: JSON.stringify(task) }),
      );
      return taskId;
    },
    async sendRaw(body) {
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: tasks.queueUrl, MessageBody: body }));
    },
    async close() {
      collector.stop();
      aws.destroy();
      lambdaAws.destroy();
      await lambda.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The registration function's bundle: the one the suite's local deployment runs (the CDK
 * asset, built as `cdk deploy` builds it), or, where the suite runs against an external
 * deployment, the same entry point bundled here with the stack's esbuild settings.
 */
async function registrationBundle(dir: string): Promise<string> {
  const deployed = inject("registrationBundle");
  if (deployed) return deployed;
  const outfile = join(dir, "registration", "index.mjs");
  await build({
    entryPoints: [REGISTRATION_ENTRY],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    mainFields: ["module", "main"],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: "silent",
  });
  return outfile;
}

/** Reads the session's result queue in the background; keeps every result, duplicates too. */
export class ResultCollector {
  readonly all: ResultMessage[] = [];
  readonly #aws: AwsClients;
  readonly #queueUrl: string;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(aws: AwsClients, queueUrl: string) {
    this.#aws = aws;
    this.#queueUrl = queueUrl;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  stop(): void {
    this.#stop.abort();
  }

  byTask(taskId: string): ResultMessage[] {
    return this.all.filter((r) => r.taskId === taskId);
  }

  async waitFor(taskId: string, timeoutMs = 20_000): Promise<ResultMessage> {
    this.start();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.all.find((r) => r.taskId === taskId);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no result for task ${taskId} within ${timeoutMs} ms`);
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      let messages: Message[] = [];
      try {
        const out = await this.#aws.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
          { abortSignal: this.#stop.signal },
        );
        messages = out.Messages ?? [];
      } catch {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const m of messages) {
        this.all.push(ResultMessage.parse(JSON.parse(m.Body ?? "")));
        await this.#aws.sqs
          .send(
            new DeleteMessageCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: m.ReceiptHandle }),
          )
          .catch(() => {});
      }
    }
  }
}

/** Messages now in a queue (ready and in flight), without consuming them. */
export function queueBodies(server: FauxqsServer, name: string) {
  const q = server.inspectQueue(name);
  if (!q) return [];
  return [...q.messages.ready, ...q.messages.inflight.map((f) => f.message)];
}

export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Start an agent in this process against the harness's queues, with site-config overrides. */
export async function startInProcessAgent(
  h: Harness,
  overrides: Partial<SiteConfigInput> = {},
): Promise<EndpointAgent> {
  const agent = new EndpointAgent({
    endpointId: h.endpointId,
    config: await h.config(overrides),
    deps: h.deps(),
  });
  await agent.start();
  return agent;
}
