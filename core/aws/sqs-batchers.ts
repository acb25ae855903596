import {
  type BatchResultErrorEntry,
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { FerryError } from "#core/errors.ts";
import { type EntryOutcome, RequestBatcher, type RequestBatcherOptions } from "./batcher.ts";

/** SQS's limits for one batch call. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 1_048_576;

/**
 * One entry of a batch call refused by SQS. Shaped like the SDK's service errors (name = the
 * code, an HTTP status by who is at fault) so callers classify both the same way.
 */
export class SqsEntryError extends FerryError {
  readonly $metadata: { httpStatusCode: number };

  constructor(entry: BatchResultErrorEntry, queueUrl: string) {
    super(`SQS refused a batch entry on ${queueUrl}: ${entry.Code}: ${entry.Message ?? ""}`, {
      context: { queueUrl },
    });
    this.name = entry.Code ?? "SqsEntryError";
    this.$metadata = { httpStatusCode: entry.SenderFault ? 400 : 500 };
  }
}

export interface SqsBatchersOptions {
  sqs: SQSClient;
  /** Aborts every request (the end of an agent run). */
  signal: AbortSignal;
}

interface VisibilityChange {
  receiptHandle: string;
  seconds: number;
}

/**
 * SendMessage, DeleteMessage and ChangeMessageVisibility through batch calls, one batcher per
 * queue and call: what many tasks send, delete or extend while a request is in flight goes out
 * together in the next one.
 */
export class SqsBatchers {
  readonly #o: SqsBatchersOptions;
  readonly #sends = new Map<string, RequestBatcher<string>>();
  readonly #deletes = new Map<string, RequestBatcher<string>>();
  readonly #changes = new Map<string, RequestBatcher<VisibilityChange>>();

  constructor(options: SqsBatchersOptions) {
    this.#o = options;
  }

  send(queueUrl: string, body: string): Promise<void> {
    return this.#add(this.#sends, queueUrl, body, () => ({
      maxBytes: MAX_BATCH_BYTES,
      sizeOf: (b) => Buffer.byteLength(b),
      send: async (bodies) => {
        const out = await this.#o.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
          }),
          { abortSignal: this.#o.signal },
        );
        return outcomes(bodies.length, out.Failed, queueUrl);
      },
    }));
  }

  delete(queueUrl: string, receiptHandle: string): Promise<void> {
    return this.#add(this.#deletes, queueUrl, receiptHandle, () => ({
      send: async (handles) => {
        const out = await this.#o.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: handles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })),
          }),
          { abortSignal: this.#o.signal },
        );
        return outcomes(handles.length, out.Failed, queueUrl);
      },
    }));
  }

  changeVisibility(queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
    return this.#add(this.#changes, queueUrl, { receiptHandle, seconds }, () => ({
      send: async (changes) => {
        const out = await this.#o.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: changes.map((c, i) => ({
              Id: String(i),
              ReceiptHandle: c.receiptHandle,
              VisibilityTimeout: Math.round(c.seconds),
            })),
          }),
          { abortSignal: this.#o.signal },
        );
        return outcomes(changes.length, out.Failed, queueUrl);
      },
    }));
  }

  /** Wait for every call added so far. */
  async drain(): Promise<void> {
    const all = [...this.#sends.values(), ...this.#deletes.values(), ...this.#changes.values()];
    await Promise.all(all.map((b) => b.drain()));
  }

  /** Add to the queue's batcher; drop the batcher once idle (an agent outlives many queues). */
  #add<T>(
    map: Map<string, RequestBatcher<T>>,
    queueUrl: string,
    item: T,
    make: () => RequestBatcherOptions<T>,
  ): Promise<void> {
    let batcher = map.get(queueUrl);
    if (!batcher) {
      batcher = new RequestBatcher<T>({ maxItems: MAX_BATCH_ENTRIES, ...make() });
      map.set(queueUrl, batcher);
    }
    const b = batcher;
    return b.add(item).finally(() => {
      if (b.idle && map.get(queueUrl) === b) map.delete(queueUrl);
    });
  }
}

function outcomes(
  count: number,
  failed: BatchResultErrorEntry[] | undefined,
  queueUrl: string,
): EntryOutcome[] {
  const result: EntryOutcome[] = Array.from({ length: count }, () => ({ ok: true }));
  for (const entry of failed ?? []) {
    const i = Number(entry.Id);
    if (Number.isInteger(i) && i >= 0 && i < count)
      result[i] = { ok: false, error: new SqsEntryError(entry, queueUrl) };
  }
  return result;
}
