import type { SQSClient } from "@aws-sdk/client-sqs";
import { SqsBatchers } from "#core/aws/sqs-batchers.ts";
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
  /** Shared with the agent's other SQS calls. @default batchers of its own */
  batchers?: SqsBatchers;
  /** Tries before a result is spooled. @default 3 */
  sendAttempts?: number;
}

/**
 * At-least-once delivery: the result is sent, and only then the task message deleted. A result
 * that cannot be sent goes to the disk spool and is re-sent in the background (exponential
 * backoff with jitter), then its task message is deleted.
 *
 * Sends and deletes go through batch calls (what many slots deliver at once shares a request),
 * and `deliver` returns once the result is out: the delete follows in the background, so the
 * slot is free a round trip sooner. A crash before the delete only re-delivers the task, whose
 * duplicate result the client drops.
 */
export class ResultDelivery {
  readonly #o: ResultDeliveryOptions;
  readonly #batchers: SqsBatchers;
  /** Deletes still going on after their results were sent. */
  readonly #deleting = new Set<Promise<void>>();
  #wake: (() => void) | undefined;
  #flusher: Promise<void> | undefined;

  constructor(options: ResultDeliveryOptions) {
    this.#o = options;
    this.#batchers =
      options.batchers ?? new SqsBatchers({ sqs: options.sqs, signal: options.signal });
  }

  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    const d = { ...delivery, result: fitResult(delivery.result) };
    const log = this.#o.logger.child({ taskId: d.result.taskId });
    const attempts = this.#o.sendAttempts ?? 3;
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        await this.#send(d);
        const deleting = this.#deleteTask(d, log).finally(() => this.#deleting.delete(deleting));
        this.#deleting.add(deleting);
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

  /** Wait for the deletes that follow sent results (before the run's signal aborts them). */
  async settled(): Promise<void> {
    while (this.#deleting.size > 0) await Promise.allSettled([...this.#deleting]);
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
    await this.#batchers.send(d.replyTo, JSON.stringify(result));
  }

  async #deleteTask(d: Delivery | SpoolEntry, log: Logger): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#batchers.delete(d.taskQueueUrl, d.receiptHandle);
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
