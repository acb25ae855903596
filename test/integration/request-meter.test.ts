// The request meter on real SDK clients against the suite's deployment (fauxqs, or the compat
// pair): it counts what the clients did, by action, with SQS's 64 KiB chunks and the bytes.
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestMeter, sqsChunks, untilQueueAnswers } from "#core/aws/index.ts";
import type { Connection } from "#core/connect.ts";
import { connectForTest } from "../helpers/ferry.ts";

const KIB = 1024;
let conn: Connection;
let meter: RequestMeter;

beforeAll(async () => {
  conn = await connectForTest();
  meter = new RequestMeter();
  meter.attachAll(conn.aws);
});

afterAll(() => conn?.close());

describe("RequestMeter on the SDK clients", () => {
  it("counts SQS calls as billed 64 KiB chunks, sends and receives", async () => {
    const { sqs } = conn.aws;
    const name = `${conn.deployment.queuePrefix}meter-${Math.random().toString(36).slice(2, 8)}`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    try {
      // On AWS (and the compat pair) a new queue answers QueueDoesNotExist for a while.
      expect(await untilQueueAnswers(sqs, QueueUrl ?? "", { timeoutMs: 10_000, pollMs: 100 })).toBe(
        true,
      );
      // 100 KiB: two chunks. A batch of three 30 KiB messages: 90 KiB together, two chunks.
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "a".repeat(100 * KIB) }));
      const entries = [0, 1, 2].map((i) => ({ Id: `m${i}`, MessageBody: "b".repeat(30 * KIB) }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
      const received: Message[] = [];
      let receivedChunks = 0;
      while (received.length < 4) {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        const got = out.Messages ?? [];
        receivedChunks += sqsChunks(got.reduce((a, m) => a + (m.Body?.length ?? 0), 0));
        received.push(...got);
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: received.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      const counts = meter.tally().services.sqs ?? {};
      expect(counts.SendMessage).toMatchObject({ calls: 1, billed: 2, failed: 0 });
      expect(counts.SendMessage?.bytesOut).toBeGreaterThan(100 * KIB);
      expect(counts.SendMessageBatch).toMatchObject({ calls: 1, billed: 2 });
      expect(counts.ReceiveMessage?.billed).toBe(receivedChunks);
      expect(counts.ReceiveMessage?.bytesIn).toBeGreaterThan(190 * KIB);
      expect(counts.DeleteMessageBatch).toMatchObject({ calls: 1, billed: 1 });
      expect(counts.CreateQueue).toMatchObject({ calls: 1, billed: 1 });
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    }
  });

  it("counts S3 requests and the bytes each way, and a failed GET", async () => {
    const { s3 } = conn.aws;
    const Bucket = conn.deployment.bucketName;
    const Key = `tmp/meter-test/${Math.random().toString(36).slice(2, 8)}`;
    const body = Buffer.alloc(KIB * KIB, 7);
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect((await got.Body?.transformToByteArray())?.byteLength).toBe(body.byteLength);
    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    await expect(s3.send(new GetObjectCommand({ Bucket, Key }))).rejects.toThrow();
    const counts = meter.tally().services.s3 ?? {};
    expect(counts.PutObject).toMatchObject({ calls: 1, billed: 1, bytesOut: body.byteLength });
    expect(counts.GetObject).toMatchObject({ calls: 2, billed: 2, failed: 1 });
    expect(counts.GetObject?.bytesIn).toBeGreaterThanOrEqual(body.byteLength);
    expect(counts.DeleteObject).toMatchObject({ calls: 1 });
  });

  it("counts control-plane calls to the registration function, with their time", async () => {
    const before = Object.values(meter.tally().services.lambda ?? {}).reduce(
      (a, c) => a + c.calls,
      0,
    );
    await conn.control.call("listEndpoints", {});
    await conn.control.call("listEndpoints", {});
    const lambda = Object.values(meter.tally().services.lambda ?? {});
    expect(lambda.reduce((a, c) => a + c.calls, 0)).toBe(before + 2);
    expect(lambda.reduce((a, c) => a + c.durationMs, 0)).toBeGreaterThan(0);
    expect(lambda.reduce((a, c) => a + c.bytesIn, 0)).toBeGreaterThan(0);
  });
});
