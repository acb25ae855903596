/**
 * A private emulator (fauxqs) with the resources one endpoint needs, a `control` for the agent,
 * and helpers to register functions, send tasks and collect results. Used by the agent
 * integration tests only. `control` is a stand-in registry by default (tests can forge records
 * through it); with `{ control: "registration" }` it is the real registration service
 * (functions/registration's handler) over the same emulator, as the Lambda would run it.
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
import type { AgentDeps, SiteConfig, SiteConfigInput } from "#agent/index.ts";
import { EndpointAgent, loadSiteConfig } from "#agent/index.ts";
import { type AwsClients, createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import type { ControlClient } from "#core/control/index.ts";
import { FerryError, NotFoundError, TransientError } from "#core/errors.ts";
import { newEndpointId, newSessionId, newTaskId } from "#core/ids.ts";
import { createLogger } from "#core/logger.ts";
import { bundleKey, queueNames } from "#core/names.ts";
import {
  type ControlAction,
  ControlResponse,
  ControlResponseData,
  type FunctionRecord,
  type FunctionRef,
  type HeartbeatRecord,
  ResultMessage,
  shellFunctionSha256,
  type TaskMessageInput,
} from "#core/protocol/index.ts";
import { createHandler, type RegistrationHandler } from "#functions/registration/index.ts";

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
  functions: Map<string, FunctionRecord>;
  heartbeats: Array<Omit<HeartbeatRecord, "v" | "at">>;
  /** Results the agent parked with the stand-in control plane (the real one keeps its own). */
  parked: ResultMessage[];
  /** The next `n` getFunction calls fail as if the registration service were unreachable. */
  failControl(n: number): void;
  /** getFunction calls answered so far, failed ones included. */
  controlCalls(): number;
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

export interface HarnessOptions {
  /** Who answers the agent's control calls. @default "stand-in" */
  control?: "stand-in" | "registration";
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
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
  const functions = new Map<string, FunctionRecord>();
  const heartbeats: Harness["heartbeats"] = [];
  const logger = createLogger({}, { level: process.env.FERRY_LOG_LEVEL ?? "silent" });

  const registration =
    options.control === "registration"
      ? createHandler({
          sqs: aws.sqs,
          s3: aws.s3,
          bucket: BUCKET,
          dlqArn: dlq.queueArn,
          queuePrefix: PREFIX,
          maxReceiveCount: 10,
        })
      : undefined;
  // The stand-in answers the actions the agent uses, like the registration function would.
  const cancelled = new Set<string>();
  const parked: ResultMessage[] = [];
  const standIn = (action: string, request: Record<string, unknown>): unknown => {
    switch (action) {
      case "getFunction": {
        const record = functions.get(`${request.name}@${request.sha256}`);
        if (!record) throw new NotFoundError(`function ${request.name} is not registered`);
        return { function: record };
      }
      case "heartbeat":
        return { at: Date.now() };
      case "cancelTasks":
        for (const id of request.taskIds as string[]) cancelled.add(`${request.sessionId}/${id}`);
        return { cancelled: new Set(request.taskIds as string[]).size };
      case "checkCancellations": {
        // As the registry does: a cancellation counts for the session the task names.
        const tasks = request.tasks as Array<{ taskId: string; sessionId: string }>;
        return {
          cancelled: tasks
            .filter((t) => cancelled.has(`${t.sessionId}/${t.taskId}`))
            .map((t) => t.taskId),
        };
      }
      case "describeEndpoint":
        // Only what the agent asks it for: whether the endpoint is registered.
        if (request.endpointId !== endpointId)
          throw new NotFoundError(`endpoint ${request.endpointId} is not registered`);
        return {};
      case "parkResult":
        parked.push(ResultMessage.parse(request.result));
        return { parked: true };
      default:
        throw new Error(`unexpected control action ${action}`);
    }
  };
  let failuresLeft = 0;
  let getFunctionCalls = 0;
  const control = {
    async call(action: string, request: Record<string, unknown>) {
      if (action === "getFunction") {
        getFunctionCalls++;
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new TransientError("cannot reach the registration function (getFunction)");
        }
      }
      if (action === "heartbeat") {
        heartbeats.push(request.heartbeat as Harness["heartbeats"][number]);
      }
      return registration
        ? invoke(registration, action as ControlAction, request)
        : standIn(action, request);
    },
  } as unknown as Pick<ControlClient, "call">;
  if (registration) {
    // The real service keeps records: the endpoint (heartbeats need it) and the session.
    await invoke(registration, "registerEndpoint", { name: "agent-test", endpointId });
    await invoke(registration, "openSession", { sessionId });
  }
  const registerFunction = async (record: FunctionRecord) => {
    functions.set(`${record.name}@${record.sha256}`, record);
    if (registration) {
      const { name, sha256, spec } = record;
      await invoke(registration, "registerFunction", { name, sha256, spec });
    }
    return { name: record.name, sha256: record.sha256 };
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
    functions,
    heartbeats,
    parked,
    failControl: (n) => {
      failuresLeft = n;
    },
    controlCalls: () => getFunctionCalls,
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
      const functionsFile = join(dir, "functions.json");
      await writeFile(functionsFile, JSON.stringify([...functions.values()]));
      const spec: ChildSpec = {
        address: server.address,
        endpointId,
        bucket: BUCKET,
        queuePrefix: PREFIX,
        deadLetterQueueUrl: dlq.queueUrl,
        functionsFile,
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
      const out = (await control.call("cancelTasks", { sessionId, taskIds })) as {
        cancelled: number;
      };
      return out.cancelled;
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
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One control call through the registration handler, checked as ControlClient checks it. */
async function invoke(
  handler: RegistrationHandler,
  action: ControlAction,
  request: Record<string, unknown>,
): Promise<unknown> {
  const response = ControlResponse.parse(await handler({ v: 1, action, ...request }));
  if (!response.ok) {
    const Err = response.error.type === "NotFound" ? NotFoundError : FerryError;
    throw new Err(response.error.message);
  }
  return ControlResponseData[action].parse(response.data);
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
