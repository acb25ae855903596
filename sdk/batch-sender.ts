import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { classifyAwsError } from "#core/aws/index.ts";
import { backoffDelayMs, sleep } from "#core/backoff.ts";
import { describeError, NotFoundError, RefusedError, TransientError } from "#core/errors.ts";

/** SQS's limits for one SendMessageBatch call. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 1_048_576;
/** A task queue that says it does not exist is retried this long (AWS: ~1 s after CreateQueue). */
const QUEUE_MISSING_WINDOW_MS = 10_000;

export interface OutgoingMessage {
  id: string;
  body: string;
}

interface SendOptions {
  signal?: AbortSignal;
  concurrency?: number;
  maxRetries?: number;
}

/**
 * Send messages to one queue in batches of up to 10 (and 1 MiB), several calls in flight,
 * re-sending the entries a batch reports as failed.
 * @param concurrency calls in flight @default 8
 * @param maxRetries per failed entry @default 5
 */
export async function sendInBatches(
  sqs: SQSClient,
  queueUrl: string,
  messages: OutgoingMessage[],
  options: SendOptions = {},
): Promise<void> {
  const batches = batchesOf(messages);
  let next = 0;
  const workers = Array.from(
    { length: Math.min(options.concurrency ?? 8, batches.length) },
    async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        if (batch) await sendBatch(sqs, queueUrl, batch, options);
      }
    },
  );
  await Promise.all(workers);
}

/** The messages in order, cut into batches within SQS's entry and byte limits. */
function batchesOf(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
  const batches: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = Buffer.byteLength(m.body);
    if (
      current.length === MAX_BATCH_ENTRIES ||
      (current.length > 0 && bytes + size > MAX_BATCH_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * One batch, re-sending its failed entries with backoff. Gives up after maxRetries attempts,
 * but not before a new queue's missing window has passed.
 */
async function sendBatch(
  sqs: SQSClient,
  queueUrl: string,
  batch: OutgoingMessage[],
  options: SendOptions,
): Promise<void> {
  let pending = batch;
  const started = Date.now();
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > (options.maxRetries ?? 5) && Date.now() - started > QUEUE_MISSING_WINDOW_MS) {
      throw new TransientError(`could not send ${pending.length} task(s) to ${queueUrl}`, {
        hint: "check the deployment is reachable, then resubmit",
        context: { taskIds: pending.map((m) => m.id) },
      });
    }
    try {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map((m, i) => ({ Id: String(i), MessageBody: m.body })),
        }),
        { abortSignal: options.signal },
      );
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      pending = pending.filter((_, i) => failed.has(String(i)));
    } catch (error) {
      refuseUnlessRetriable(error, queueUrl, Date.now() - started);
    }
    if (pending.length > 0) await sleep(backoffDelayMs(attempt, { baseMs: 100, capMs: 2_000 }));
  }
}

/** Throws unless the failed call is worth another try (a transient error, or a new queue). */
function refuseUnlessRetriable(error: unknown, queueUrl: string, elapsedMs: number): void {
  const kind = classifyAwsError(error);
  if (kind === "transient") return;
  if (kind === "queue-missing" && elapsedMs < QUEUE_MISSING_WINDOW_MS) return;
  if (kind === "queue-missing") {
    throw new NotFoundError(`the task queue ${queueUrl} does not exist`, {
      cause: error,
      hint: "the endpoint may have been deregistered: see `ferry endpoint list`",
    });
  }
  if (kind === "aborted") throw error;
  throw new RefusedError(`SQS refused the tasks for ${queueUrl}: ${describeError(error)}`, {
    cause: error,
    hint: "check that your credentials may send to Ferry's task queues (the client policy)",
  });
}
