// The AWS-realism proxy: each injected answer must be one the real SDK classifies exactly as it
// would AWS's own (name, status, throttling or transient), and the windows and resets must
// leave the emulator in the state AWS would be in.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { Upload } from "@aws-sdk/lib-storage";
import { isThrottlingError, isTransientError } from "@smithy/core/retry";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import {
  type RealismFaults,
  RealismProxy,
  type RealismService,
  realismPresets,
  startRealismFor,
} from "../realism/index.ts";

const BUCKET = "realism-bucket";
let emu: FauxqsServer;
let direct: AwsClients;
/** A stand-in for the Lambda Invoke API: no Lambda emulator runs in this test. */
let lambdaHost: Server;
let lambdaUrl: string;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  emu = await startFauxqs({ port: 0, logger: false, host: "127.0.0.1" });
  emu.createBucket(BUCKET);
  direct = clientsFor({ sqs: emu.address, s3: emu.address });
  lambdaHost = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, {
        "content-type": "application/json",
        "x-amz-executed-version": "$LATEST",
      });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => lambdaHost.listen(0, "127.0.0.1", resolve));
  lambdaUrl = `http://127.0.0.1:${(lambdaHost.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  direct?.destroy();
  lambdaHost?.close();
  await emu?.stop();
});

function clientsFor(endpoints: { sqs?: string; s3?: string; lambda?: string }, maxAttempts = 1) {
  const clients = createAwsClients({
    region: "us-east-1",
    endpoints,
    credentials: EMULATOR_CREDENTIALS,
    maxAttempts,
  });
  cleanups.push(() => clients.destroy());
  return clients;
}

async function proxyFor(service: RealismService, faults: RealismFaults, seed = 7) {
  const upstream = service === "lambda" ? lambdaUrl : emu.address;
  const proxy = new RealismProxy({ service, upstream, faults, seed });
  await proxy.listen();
  cleanups.push(() => proxy.close());
  return proxy;
}

let queues = 0;
/** A fresh queue made directly on the emulator, so no proxy setting gets in the way. */
async function freshQueue(): Promise<{ name: string; url: string }> {
  const name = `realism-${process.pid}-${++queues}`;
  const { QueueUrl } = await direct.sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error("CreateQueue returned no QueueUrl");
  return { name, url: QueueUrl };
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected the call to fail");
}

function status(error: Record<string, unknown>): number | undefined {
  return (error.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode;
}

async function receiveAll(url: string): Promise<string[]> {
  const out = await direct.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  return (out.Messages ?? []).map((m) => m.Body ?? "");
}

describe("throttling answers, as the SDK classifies AWS's own", () => {
  it("SQS: RequestThrottled, 403, a throttling error; setFaults switches it off", async () => {
    const q = await freshQueue();
    const proxy = await proxyFor("sqs", { throttleRate: 1 });
    const { sqs } = clientsFor({ sqs: proxy.url });
    const error = await rejection(
      sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "x" })),
    );
    expect(error.name).toBe("RequestThrottled");
    expect(status(error)).toBe(403);
    expect(isThrottlingError(error as never)).toBe(true);
    expect((error as { Code?: string }).Code).toBe("RequestThrottled");
    expect(await receiveAll(q.url)).toEqual([]);
    proxy.setFaults({ throttleRate: 0 });
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "calm" }));
    expect(await receiveAll(q.url)).toEqual(["calm"]);
    expect(proxy.stats.injected.throttle).toBe(1);
    expect(proxy.stats.byOperation.SendMessage).toBe(2);
  });

  it("Lambda: TooManyRequestsException, 429, with Reason and Type; Invoke passes when off", async () => {
    const proxy = await proxyFor("lambda", { throttleRate: 1, only: ["Invoke"] });
    const { lambda } = clientsFor({ lambda: proxy.url });
    const invoke = new InvokeCommand({
      FunctionName: "ferry-register",
      Payload: Buffer.from("{}"),
    });
    const error = await rejection(lambda.send(invoke));
    expect(error.name).toBe("TooManyRequestsException");
    expect(status(error)).toBe(429);
    expect(error.Reason).toBe("ConcurrentInvocationLimitExceeded");
    expect(error.Type).toBe("User");
    expect(error.message).toBe("Rate Exceeded.");
    expect(isThrottlingError(error as never)).toBe(true);
    proxy.setFaults({ throttleRate: 0 });
    const out = await lambda.send(invoke);
    expect(JSON.parse(Buffer.from(out.Payload ?? []).toString())).toEqual({ ok: true });
  });

  it("S3: SlowDown, 503, a throttling error", async () => {
    const proxy = await proxyFor("s3", { throttleRate: 1 });
    const { s3 } = clientsFor({ s3: proxy.url });
    const put = new PutObjectCommand({ Bucket: BUCKET, Key: "slow", Body: "x" });
    const error = await rejection(s3.send(put));
    expect(error.name).toBe("SlowDown");
    expect(status(error)).toBe(503);
    expect(isThrottlingError(error as never)).toBe(true);
    expect(proxy.stats.injectedByOperation.PutObject?.throttle).toBe(1);
  });
});

describe("5xx answers", () => {
  it.each(["sqs", "s3", "lambda"] as const)(
    "%s: a 5xx the SDK retries as transient",
    async (service) => {
      const proxy = await proxyFor(service, { serverErrorRate: 1 });
      const clients = clientsFor({ [service]: proxy.url });
      const q = service === "sqs" ? await freshQueue() : undefined;
      const call =
        service === "sqs"
          ? clients.sqs.send(new SendMessageCommand({ QueueUrl: q?.url, MessageBody: "x" }))
          : service === "s3"
            ? clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "5xx", Body: "x" }))
            : clients.lambda.send(new InvokeCommand({ FunctionName: "f" }));
      const error = await rejection(call);
      const names = {
        sqs: ["InternalError", "ServiceUnavailable"],
        s3: ["InternalError", "ServiceUnavailable"],
        lambda: ["ServiceException"],
      };
      expect(names[service]).toContain(error.name);
      expect([500, 503]).toContain(status(error));
      expect(isTransientError(error as never)).toBe(true);
      expect(isThrottlingError(error as never)).toBe(false);
    },
  );
});

it("with half the calls throttled, the SDK's standard retries still deliver all 50 sends", async () => {
  const q = await freshQueue();
  const proxy = await proxyFor("sqs", { throttleRate: 0.5, only: ["SendMessage"] }, 11);
  const { sqs } = clientsFor({ sqs: proxy.url }, 12);
  const bodies = Array.from({ length: 50 }, (_, i) => `m${i}`);
  await Promise.all(
    bodies.map((b) => sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: b }))),
  );
  const stats = proxy.stats;
  // The count is fixed by the seed (the draws come in arrival order and the run stops at the
  // 50th success); which send got which throttle is up to timing.
  expect(stats.injected.throttle).toBe(41);
  expect(stats.byOperation.SendMessage).toBe(50 + stats.injected.throttle);
  const got: string[] = [];
  for (let i = 0; i < 10 && got.length < 50; i++) got.push(...(await receiveAll(q.url)));
  expect(got.sort()).toEqual([...bodies].sort());
});

describe("connection resets", () => {
  it("after: the client sees a socket error, yet the message is in the queue", async () => {
    const q = await freshQueue();
    const proxy = await proxyFor("sqs", { resetAfterRate: 1, only: ["SendMessage"] });
    const { sqs } = clientsFor({ sqs: proxy.url });
    const error = await rejection(
      sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "sent" })),
    );
    expect(error.$metadata).toBeDefined();
    expect(status(error)).toBeUndefined();
    expect(isTransientError(error as never)).toBe(true);
    expect(await receiveAll(q.url)).toEqual(["sent"]);
    expect(proxy.stats.injected.resetAfter).toBe(1);
  });

  it("before: the client sees a socket error and nothing reached the queue", async () => {
    const q = await freshQueue();
    const proxy = await proxyFor("sqs", { resetBeforeRate: 1, only: ["SendMessage"] });
    const { sqs } = clientsFor({ sqs: proxy.url });
    const error = await rejection(
      sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "lost" })),
    );
    expect(isTransientError(error as never)).toBe(true);
    expect(await receiveAll(q.url)).toEqual([]);
    expect(proxy.stats.injected.resetBefore).toBe(1);
  });
});

describe("SQS queue windows", () => {
  it("a new queue answers QueueDoesNotExist until newQueueDelayMs has passed", async () => {
    const proxy = await proxyFor("sqs", { newQueueDelayMs: 1000 });
    const { sqs } = clientsFor({ sqs: proxy.url });
    const name = `realism-new-${process.pid}`;
    const started = Date.now();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const send = () => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "early" }));
    const error = await rejection(send());
    expect(error.name).toBe("QueueDoesNotExist");
    expect(status(error)).toBe(400);
    expect((error as { Code?: string }).Code).toBe("AWS.SimpleQueueService.NonExistentQueue");
    expect((await rejection(sqs.send(new GetQueueUrlCommand({ QueueName: name })))).name).toBe(
      "QueueDoesNotExist",
    );
    const deadline = Date.now() + 10_000;
    let sent = false;
    while (!sent && Date.now() < deadline) {
      sent = await send().then(
        () => true,
        (e: Error) => (e.name === "QueueDoesNotExist" ? false : Promise.reject(e)),
      );
      if (!sent) await new Promise((r) => setTimeout(r, 50));
    }
    expect(sent).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(proxy.stats.injected.queueNotYetVisible).toBeGreaterThanOrEqual(2);
    await direct.sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it("a deleted queue's name answers QueueDeletedRecently within the window", async () => {
    const q = await freshQueue();
    const proxy = await proxyFor("sqs", { deletedQueueWindowMs: 60_000 });
    const { sqs } = clientsFor({ sqs: proxy.url });
    await sqs.send(new DeleteQueueCommand({ QueueUrl: q.url }));
    const error = await rejection(sqs.send(new CreateQueueCommand({ QueueName: q.name })));
    expect(error.name).toBe("QueueDeletedRecently");
    expect(status(error)).toBe(400);
    expect((error as { Code?: string }).Code).toBe("AWS.SimpleQueueService.QueueDeletedRecently");
    const other = await sqs.send(new CreateQueueCommand({ QueueName: `${q.name}-other` }));
    expect(other.QueueUrl).toContain(`${q.name}-other`);
    expect(proxy.stats.injected.queueDeletedRecently).toBe(1);
  });

  it("with deletedQueueLingers, sends succeed for a while after DeleteQueue, then the queue is gone", async () => {
    const q = await freshQueue();
    // Seed 3 draws a linger of about 0.89 of the window (1.3 s): time for the send below.
    const proxy = await proxyFor(
      "sqs",
      { deletedQueueWindowMs: 1500, deletedQueueLingers: true },
      3,
    );
    const { sqs } = clientsFor({ sqs: proxy.url });
    await sqs.send(new DeleteQueueCommand({ QueueUrl: q.url }));
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "late" }));
    expect((await rejection(sqs.send(new CreateQueueCommand({ QueueName: q.name })))).name).toBe(
      "QueueDeletedRecently",
    );
    const deadline = Date.now() + 5_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      const r = await direct.sqs.send(new GetQueueUrlCommand({ QueueName: q.name })).then(
        () => false,
        (e: Error) => e.name === "QueueDoesNotExist",
      );
      gone = r;
      if (!gone) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(gone).toBe(true);
    expect(proxy.stats.injected.deletedQueueLinger).toBe(1);
  });
});

it("adds latency within the range, as the proxy itself records it", async () => {
  const proxy = await proxyFor("sqs", { latencyMs: { min: 50, max: 60 } });
  const { sqs } = clientsFor({ sqs: proxy.url });
  await sqs.send(new ListQueuesCommand({}));
  const { latency } = proxy.stats;
  expect(latency.count).toBe(1);
  expect(latency.minMs).toBeGreaterThanOrEqual(50);
  expect(latency.maxMs).toBeLessThanOrEqual(60);
});

it("only / except aim the faults", async () => {
  const q = await freshQueue();
  const proxy = await proxyFor("sqs", { throttleRate: 1, except: ["ReceiveMessage"] });
  const { sqs } = clientsFor({ sqs: proxy.url });
  await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, WaitTimeSeconds: 0 }));
  expect((await rejection(sqs.send(new ListQueuesCommand({})))).name).toBe("RequestThrottled");
  expect(proxy.stats.injectedByOperation.ReceiveMessage).toBeUndefined();
});

it("a 20 MB object goes through the S3 proxy intact, both ways", async () => {
  const proxy = await proxyFor("s3", realismPresets.wan);
  const { s3 } = clientsFor({ s3: proxy.url }, 3);
  const data = randomBytes(20 * 1024 * 1024);
  const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  // fauxqs refuses parts over 11 MiB: 8 MiB parts, as the product uses.
  const upload = new Upload({
    client: s3,
    params: { Bucket: BUCKET, Key: "big", Body: data },
    partSize: 8 * 1024 * 1024,
  });
  await upload.done();
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big" }));
  const bytes = await got.Body?.transformToByteArray();
  expect(bytes?.length).toBe(data.length);
  expect(digest(bytes ?? new Uint8Array())).toBe(digest(data));
  expect(proxy.stats.byOperation.UploadPart).toBe(3);
  expect(proxy.stats.byOperation.GetObject).toBe(1);
});

it("the same seed gives the same injections; another seed does not", async () => {
  const faults: RealismFaults = { throttleRate: 0.3, serverErrorRate: 0.2, resetBeforeRate: 0.1 };
  const run = async (seed: number) => {
    const proxy = await proxyFor("sqs", faults, seed);
    const { sqs } = clientsFor({ sqs: proxy.url });
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      outcomes.push(
        await sqs.send(new ListQueuesCommand({})).then(
          () => "ok",
          (e: Error) => e.name,
        ),
      );
    }
    return { outcomes, injections: proxy.injections };
  };
  const a = await run(42);
  const b = await run(42);
  const c = await run(43);
  expect(a.injections.length).toBeGreaterThan(5);
  expect(b).toEqual(a);
  expect(c.injections).not.toEqual(a.injections);
});

it("startRealismFor fronts all three services and sums their stats", async () => {
  const realism = await startRealismFor(
    { sqs: emu.address, s3: emu.address, lambda: lambdaUrl },
    { latencyMs: { min: 1, max: 2 } },
    5,
  );
  cleanups.push(() => realism.close());
  const clients = clientsFor(realism.urls);
  await clients.sqs.send(new ListQueuesCommand({}));
  await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "three", Body: "x" }));
  await clients.lambda.send(new InvokeCommand({ FunctionName: "f" }));
  const stats = realism.stats();
  expect(stats.requests).toBe(3);
  expect(stats.injected.latency).toBe(3);
  expect(Object.keys(stats.byOperation).sort()).toEqual(["Invoke", "ListQueues", "PutObject"]);
  await realism.close();
  await realism.close();
  await expect(clients.sqs.send(new ListQueuesCommand({}))).rejects.toThrow();
});
