import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  type Message,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import { type S3Workarounds, startCompatS3 } from "#local/backends/compat-s3.ts";
import { type SqsWorkarounds, startCompatSqs } from "#local/backends/compat-sqs.ts";
import { type LocalDeployment, startLocal } from "#local/index.ts";

// The compat backend on its own, whatever backend the global setup started: the stack through
// the real registration handler, and for each workaround of an emulator bug, the bug itself
// (workaround off) and the fix (on), so that a workaround cannot silently rot.

const REGION = "us-east-1";
const ACCOUNT = "000000000000";

/** A new queue answers QueueDoesNotExist for about a second (lazy queues, as on AWS). */
async function untilUsable(sqs: SQSClient, queueUrl: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl }));
      return;
    } catch (error) {
      if (!(error instanceof QueueDoesNotExist) || Date.now() > deadline) throw error;
    }
    await sleep(100);
  }
}

async function receiveOne(sqs: SQSClient, queueUrl: string): Promise<Message> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      WaitTimeSeconds: 5,
      VisibilityTimeout: 30,
      MessageSystemAttributeNames: ["ApproximateReceiveCount"],
    }),
  );
  const message = out.Messages?.[0];
  if (!message) throw new Error(`no message on ${queueUrl}`);
  return message;
}

describe("compat backend: the stack through the registration handler", () => {
  let home: string;
  let local: LocalDeployment;
  let conn: Connection;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "ferry-compat-"));
    local = await startLocal({ home, backend: "compat" });
    conn = await connect(loadEnv({ FERRY_HOME: home, FERRY_DEPLOYMENT: local.deploymentPath }));
  }, 120_000);
  afterAll(async () => {
    conn?.close();
    await local?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it("records SQS and S3 apart, and the stack's queue and bucket exist", async () => {
    expect(local.backend).toBe("compat");
    expect(local.sqsEndpointUrl).not.toBe(local.s3EndpointUrl);
    expect(local.outputs.LocalAwsEndpointUrl).toBeUndefined();
    expect(conn.deployment.endpoints).toMatchObject({
      sqs: local.sqsEndpointUrl,
      s3: local.s3EndpointUrl,
    });
    expect(conn.deployment.isLocal).toBe(true);
    const dlqUrl = conn.deployment.deadLetterQueueUrl;
    expect(dlqUrl.startsWith(`${local.sqsEndpointUrl}/${ACCOUNT}/`)).toBe(true);
    const { Attributes } = await conn.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
    );
    expect(Attributes?.QueueArn).toBe(conn.deployment.deadLetterQueueArn);
    await conn.aws.s3.send(new HeadBucketCommand({ Bucket: conn.deployment.bucketName }));
  });

  it("registerEndpoint creates a task queue with a redrive policy; a message sent to it is received", async () => {
    const { endpoint } = await conn.control.call("registerEndpoint", { name: "compat-probe" });
    expect(endpoint.queueUrl.startsWith(`${local.sqsEndpointUrl}/${ACCOUNT}/`)).toBe(true);
    await untilUsable(conn.aws.sqs, endpoint.queueUrl);
    const { Attributes } = await conn.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: endpoint.queueUrl, AttributeNames: ["All"] }),
    );
    expect(JSON.parse(Attributes?.RedrivePolicy ?? "{}")).toMatchObject({
      deadLetterTargetArn: conn.deployment.deadLetterQueueArn,
    });
    await conn.aws.sqs.send(
      new SendMessageCommand({ QueueUrl: endpoint.queueUrl, MessageBody: '{"probe":1}' }),
    );
    const message = await receiveOne(conn.aws.sqs, endpoint.queueUrl);
    expect(message.Body).toBe('{"probe":1}');
    expect(message.Attributes?.ApproximateReceiveCount).toBe("1");
    const { endpoints } = await conn.control.call("listEndpoints", {});
    expect(endpoints.map((e) => e.endpoint.endpointId)).toContain(endpoint.endpointId);
  });
});

/** A bare compat SQS server with one workaround off (or all on), and a client for it. */
async function withSqs(
  workarounds: Partial<SqsWorkarounds>,
  run: (sqs: SQSClient, queueUrlOf: (name: string) => string) => Promise<void>,
): Promise<void> {
  const server = await startCompatSqs({ region: REGION, accountId: ACCOUNT, workarounds });
  const aws = createAwsClients({
    region: REGION,
    endpoints: { sqs: server.url },
    credentials: EMULATOR_CREDENTIALS,
    maxAttempts: 1,
  });
  try {
    await run(aws.sqs, (name) => `${server.url}/${ACCOUNT}/${name}`);
  } finally {
    aws.destroy();
    await server.close();
  }
}

/** A bare compat S3 server with one workaround off (or all on), and a client for it. */
async function withS3(
  workarounds: Partial<S3Workarounds>,
  run: (s3: S3Client) => Promise<void>,
  credentials = EMULATOR_CREDENTIALS,
): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), "ferry-s3rver-"));
  const server = await startCompatS3({ directory, workarounds });
  const aws: AwsClients = createAwsClients({
    region: REGION,
    endpoints: { s3: server.url },
    credentials,
    maxAttempts: 1,
  });
  try {
    await run(aws.s3);
  } finally {
    aws.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  }
}

/** A new queue with one message, received once. */
async function queueWithMessage(sqs: SQSClient, queueUrl: string, name: string): Promise<Message> {
  await sqs.send(new CreateQueueCommand({ QueueName: name }));
  await untilUsable(sqs, queueUrl);
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "m" }));
  return receiveOne(sqs, queueUrl);
}

describe("compat backend: each emulator workaround is still needed", () => {
  it("local-aws-sqs ignores MessageSystemAttributeNames on ReceiveMessage", async () => {
    const countWith = async (fix: boolean) => {
      let count: string | undefined;
      await withSqs({ messageSystemAttributeNames: fix }, async (sqs, urlOf) => {
        const message = await queueWithMessage(sqs, urlOf("attrs"), "attrs");
        count = message.Attributes?.ApproximateReceiveCount;
      });
      return count;
    };
    expect(await countWith(false)).toBeUndefined();
    expect(await countWith(true)).toBe("1");
  });

  it("local-aws-sqs counts ChangeMessageVisibility as a receive", async () => {
    const countWith = async (fix: boolean) => {
      let count: string | undefined;
      await withSqs({ visibilityKeepsReceiveCount: fix }, async (sqs, urlOf) => {
        const queueUrl = urlOf("visibility");
        const { ReceiptHandle } = await queueWithMessage(sqs, queueUrl, "visibility");
        // Extend twice (a long task), then hand it back: none of these is a receive.
        for (const seconds of [60, 120, 0]) {
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle,
              VisibilityTimeout: seconds,
            }),
          );
        }
        count = (await receiveOne(sqs, queueUrl)).Attributes?.ApproximateReceiveCount;
      });
      return count;
    };
    expect(await countWith(false)).toBe("5");
    expect(await countWith(true)).toBe("2");
  });

  it("local-aws-sqs holds a long poll for more than one message until the wait is over", async () => {
    const pollWith = async (fix: boolean) => {
      let answer = { seconds: 0, copies: 0 };
      await withSqs({ longPollReturnsEarly: fix }, async (sqs, urlOf) => {
        const queueUrl = urlOf("poll");
        await sqs.send(new CreateQueueCommand({ QueueName: "poll" }));
        await untilUsable(sqs, queueUrl);
        const started = Date.now();
        const poll = sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 3,
            VisibilityTimeout: 1,
          }),
        );
        await sleep(300);
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "once" }));
        const { Messages = [] } = await poll;
        answer = { seconds: (Date.now() - started) / 1000, copies: Messages.length };
      });
      return answer;
    };
    // Without: the whole 3 s, and the message again each time its 1 s visibility ran out.
    const without = await pollWith(false);
    expect(without.seconds).toBeGreaterThanOrEqual(2.9);
    expect(without.copies).toBeGreaterThan(1);
    const fixed = await pollWith(true);
    expect(fixed.seconds).toBeLessThan(1.5);
    expect(fixed.copies).toBe(1);
  });

  it("local-aws-sqs makes a second queue for a CreateQueue repeated while the first is lazy", async () => {
    const listedWith = async (fix: boolean) => {
      let listed: string[] = [];
      await withSqs({ oneQueuePerName: fix }, async (sqs, urlOf) => {
        await sqs.send(new CreateQueueCommand({ QueueName: "twice" }));
        await sqs.send(new CreateQueueCommand({ QueueName: "twice" }));
        await sleep(1_500);
        await untilUsable(sqs, urlOf("twice"));
        listed = (await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
      });
      return listed.length;
    };
    expect(await listedWith(false)).toBe(2);
    expect(await listedWith(true)).toBe(1);
  });

  it("s3rver refuses every access key but its own", async () => {
    // s3rver's key registry is per process and the workaround adds to it: use keys never seen.
    const freshKey = (n: number) => ({
      accessKeyId: `FERRYTEST${process.pid}${n}`,
      secretAccessKey: "test",
    });
    const headMissingBucket = (s3: S3Client) =>
      s3.send(new HeadBucketCommand({ Bucket: "ferry-compat-keys" }));
    await withS3(
      { anyAccessKey: false },
      async (s3) => {
        await expect(headMissingBucket(s3)).rejects.toMatchObject({
          $metadata: { httpStatusCode: 403 },
        });
      },
      freshKey(1),
    );
    await withS3(
      {},
      async (s3) => {
        // Past authentication: the bucket is simply not there.
        await expect(headMissingBucket(s3)).rejects.toMatchObject({
          $metadata: { httpStatusCode: 404 },
        });
      },
      freshKey(2),
    );
  });

  it("s3rver answers 500 to a truncated ListObjectsV2 (DES tokens under OpenSSL 3)", async () => {
    const listWith = async (fix: boolean) =>
      withS3({ listObjectsV2Paging: fix }, async (s3) => {
        const Bucket = "ferry-compat-list";
        await s3.send(new CreateBucketCommand({ Bucket }));
        const keys = ["a/1", "a/2", "b/1", "b/2", "c"];
        for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
        const listed: string[] = [];
        let pages = 0;
        for await (const page of paginateListObjectsV2(
          { client: s3, pageSize: 2 },
          { Bucket, Prefix: "" },
        )) {
          pages++;
          expect(page.KeyCount).toBe(page.Contents?.length);
          for (const object of page.Contents ?? []) listed.push(object.Key ?? "");
        }
        expect(listed).toEqual(keys);
        expect(pages).toBe(3);
      });
    await expect(listWith(false)).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    await listWith(true);
  });
});
