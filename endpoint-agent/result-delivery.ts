import { DeleteMessageCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "#core/logger.ts";
import { ResultMessage } from "#core/protocol/index.ts";
import { MAX_MESSAGE_BYTES } from "#core/store/index.ts";
import { backoffDelayMs, sleep } from "./backoff.ts";
import type { ResultSpool, SpoolEntry } from "./spool.ts";

/** Ferry's queues take messages up to this size (their MaximumMessageSize). */
export const MAX_RESULT_BYTES = MAX_MESSAGE_BYTES;

export interface Delivery {
  result: ResultMessage;
  replyTo: string;
  taskQueueUrl: string;
  receiptHandle: string;
}

export type DeliveryOutcome = "sent" | "spooled" | "dropped";

export interface ResultDeliveryOptions {
  sqs: SQSClient;
  spool: ResultSpool;
  signal: AbortSignal;
  logger: Logger;
  /** Tries before a result is spooled. @default 3 */
  sendAttempts?: number;
}

/**
 * At-least-once delivery: the result is sent, and only then the task message deleted. A result
 * that cannot be sent goes to the disk spool and is re-sent in the background (exponential
 * backoff with jitter), then its task message is deleted.
 */
export class ResultDelivery {
  readonly #o: ResultDeliveryOptions;
  #wake: (() => void) | undefined;
  #flusher: Promise<void> | undefined;

  constructor(options: ResultDeliveryOptions) {
    this.#o = options;
  }

  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    const d = { ...delivery, result: fitResult(delivery.result) };
    const log = this.#o.logger.child({ taskId: d.result.taskId });
    const attempts = this.#o.sendAttempts ?? 3;
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        await this.#send(d);
        await this.#deleteTask(d, log);
        return "sent";
      } catch (err) {
        if (isPermanent(err)) {
          // The reply queue is gone (session closed) or refuses it: nobody can ever read it.
          log.error({ err, replyTo: d.replyTo }, "result cannot be delivered; dropping it");
          await this.#deleteTask(d, log);
          return "dropped";
        }
        log.warn({ err, attempt }, "cannot send result; retrying");
        if (!(await sleep(backoffDelayMs(attempt, { baseMs: 200, capMs: 2_000 }), this.#o.signal)))
          break;
      }
    }
    await this.#o.spool.put({ ...d, spooledAt: Date.now() });
    log.warn("result spooled to disk; it will be re-sent");
    this.#wake?.();
    return "spooled";
  }

  /** Start re-sending spooled results (also those left by an earlier run). */
  startFlusher(): void {
    this.#flusher ??= this.#flushLoop();
  }

  /** Resolves when the flusher has stopped (after the run signal aborted). */
  async stopped(): Promise<void> {
    this.#wake?.();
    await this.#flusher;
  }

  /** One pass over the spool; returns how many entries remain. */
  async flushOnce(): Promise<number> {
    let remaining = 0;
    for (const entry of await this.#o.spool.list()) {
      const log = this.#o.logger.child({ taskId: entry.result.taskId });
      try {
        await this.#send(entry);
      } catch (err) {
        if (isPermanent(err)) {
          log.error({ err }, "spooled result cannot be delivered; dropping it");
          await this.#o.spool.remove(entry);
        } else {
          remaining++;
        }
        continue;
      }
      log.info("spooled result sent");
      await this.#deleteTask(entry, log);
      await this.#o.spool.remove(entry);
    }
    return remaining;
  }

  async #flushLoop(): Promise<void> {
    let failures = 0;
    while (!this.#o.signal.aborted) {
      const remaining = await this.flushOnce().catch((err: unknown) => {
        this.#o.logger.warn({ err }, "cannot read the result spool");
        return 1;
      });
      if (this.#o.signal.aborted) break;
      if (remaining > 0) {
        await sleep(backoffDelayMs(failures++, { baseMs: 1_000, capMs: 60_000 }), this.#o.signal);
      } else {
        failures = 0;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#o.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        this.#wake = undefined;
      }
    }
  }

  async #send(d: Delivery | SpoolEntry): Promise<void> {
    const result = { ...d.result, timings: { ...d.result.timings, resultSent: Date.now() } };
    await this.#o.sqs.send(
      new SendMessageCommand({ QueueUrl: d.replyTo, MessageBody: JSON.stringify(result) }),
      { abortSignal: this.#o.signal },
    );
  }

  async #deleteTask(d: Delivery | SpoolEntry, log: Logger): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#o.sqs.send(
          new DeleteMessageCommand({ QueueUrl: d.taskQueueUrl, ReceiptHandle: d.receiptHandle }),
          { abortSignal: this.#o.signal },
        );
        return;
      } catch (err) {
        if (isPermanent(err) || this.#o.signal.aborted) {
          // An expired receipt: the task will be delivered again; clients drop the duplicate.
          log.warn({ err }, "cannot delete the task message after its result was sent");
          return;
        }
        await sleep(backoffDelayMs(attempt, { baseMs: 200, capMs: 2_000 }), this.#o.signal);
      }
    }
    log.warn("cannot delete the task message after its result was sent");
  }
}

/** A result too large for a queue message becomes a failure that says so. */
export function fitResult(result: ResultMessage): ResultMessage {
  const parsed = ResultMessage.parse(result);
  const bytes = Buffer.byteLength(JSON.stringify(parsed));
  if (bytes <= MAX_RESULT_BYTES) return parsed;
  const { value: _value, ok: _ok, ...rest } = parsed as ResultMessage & { value?: unknown };
  return {
    ...rest,
    stdoutTail: rest.stdoutTail?.slice(-1_024),
    stderrTail: rest.stderrTail?.slice(-1_024),
    ok: false,
    error: {
      type: "Internal",
      message: `the result is ${bytes} bytes, more than a queue message carries (${MAX_RESULT_BYTES}); give its topic a store policy with a lower thresholdBytes`,
      retriable: false,
    },
  };
}

/** Client errors (4xx other than throttling): retrying the same request cannot help. */
export function isPermanent(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === "AbortError") return false;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) return false;
  if (status === 429 || status === 403 || /Throttl|RequestThrottled/.test(e.name ?? ""))
    return false;
  return status >= 400 && status < 500;
}
