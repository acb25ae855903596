import type { SQSClient } from "@aws-sdk/client-sqs";
import { awsErrorCode, classifyAwsError, SqsBatchers } from "#core/aws/index.ts";
import { backoffDelayMs, sleep } from "#core/backoff.ts";
import { describeError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import { ResultMessage } from "#core/protocol/index.ts";
import { MAX_MESSAGE_BYTES } from "#core/store/index.ts";
import type { ResultSpool, SpoolEntry } from "./spool.ts";

/** Ferry's queues take messages up to this size (their MaximumMessageSize). */
export const MAX_RESULT_BYTES = MAX_MESSAGE_BYTES;

export interface Delivery {
  result: ResultMessage;
  replyTo: string;
  taskQueueUrl: string;
  receiptHandle: string;
}

/**
 * - `sent`: on the session's result queue.
 * - `parked`: the reply queue kept refusing it or was gone; the control plane holds it for the
 *   session (a reattaching client, `ferry results`, or `ferry tasks` finds it there).
 * - `spooled`: on local disk, re-sent in the background; its task message is left alone.
 */
export type DeliveryOutcome = "sent" | "parked" | "spooled";

/** Keeps a result with the control plane, for its session's client to collect. */
export type ParkResult = (
  result: ResultMessage,
  reason: string,
  signal: AbortSignal,
) => Promise<void>;

export interface ResultDeliveryOptions {
  sqs: SQSClient;
  spool: ResultSpool;
  /** Where a result goes when its reply queue refuses it past the consistency window. */
  park: ParkResult;
  signal: AbortSignal;
  logger: Logger;
  /** Shared with the agent's other SQS calls. @default batchers of its own */
  batchers?: SqsBatchers;
  /** Tries before a result is spooled. @default 3 */
  sendAttempts?: number;
  /**
   * How long a reply queue may answer "does not exist" (or refuse) before that is believed and
   * the result parked. AWS: a new queue is unusable for about 1 s, a deleted one lingers up to
   * 60 s, IAM changes take seconds to apply everywhere.
   * @default 20_000
   */
  consistencyWindowMs?: number;
}

/**
 * At-least-once delivery: the result is sent, and only then the task message deleted. Nothing
 * an AWS call answers makes a result go away: a result that cannot be sent goes to the disk
 * spool and is re-sent in the background (exponential backoff with jitter); one whose reply
 * queue keeps refusing it or is gone is parked with the control plane; only then is its task
 * message deleted.
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
    let refusedSince: number | undefined;
    let lastError = "";
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        await this.#send(d);
        this.#deleteInBackground(d, log);
        return "sent";
      } catch (err) {
        const kind = classifyAwsError(err);
        if (kind === "aborted") break;
        lastError = describeSendError(err);
        if (kind !== "transient") refusedSince ??= Date.now();
        // One line per result, not per try: an outage would otherwise flood the log.
        if (attempt === 0)
          log.warn({ error: lastError, replyTo: d.replyTo }, "cannot send result; retrying");
        else log.debug({ err, attempt }, "cannot send result; retrying");
        if (!(await sleep(backoffDelayMs(attempt, { baseMs: 200, capMs: 2_000 }), this.#o.signal)))
          break;
      }
    }
    // The spool retries in the background: the slot is not held for the consistency window.
    await this.#o.spool.put({
      ...d,
      spooledAt: Date.now(),
      ...(refusedSince === undefined ? {} : { refusedSince }),
      ...(lastError ? { lastError } : {}),
    });
    log.warn({ lastError }, "result spooled to disk; it will be re-sent");
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
      if (this.#o.signal.aborted) return remaining + 1;
      if (!(await this.#flushEntry(entry))) remaining++;
    }
    return remaining;
  }

  /** Send (or park) one spooled result; true when it left the spool. */
  async #flushEntry(entry: SpoolEntry): Promise<boolean> {
    const log = this.#o.logger.child({ taskId: entry.result.taskId });
    try {
      await this.#send(entry);
      log.info("spooled result sent");
    } catch (err) {
      const kind = classifyAwsError(err);
      if (kind === "aborted") return false;
      const now = Date.now();
      const refusedSince = kind === "transient" ? undefined : (entry.refusedSince ?? now);
      const windowMs = this.#o.consistencyWindowMs ?? 20_000;
      if (refusedSince === undefined || now - refusedSince < windowMs) {
        // Keep what was learnt, so the window is counted from the first refusal.
        const lastError = describeSendError(err);
        if (refusedSince !== entry.refusedSince || lastError !== entry.lastError) {
          const { refusedSince: _old, ...rest } = entry;
          await this.#o.spool.put({
            ...rest,
            lastError,
            ...(refusedSince === undefined ? {} : { refusedSince }),
          });
        }
        return false;
      }
      if (!(await this.#park(entry, describeSendError(err), log))) return false;
    }
    await this.#deleteTask(entry, log);
    await this.#o.spool.remove(entry);
    return true;
  }

  /** Hand the result to the control plane; false (and it stays spooled) when that fails. */
  async #park(entry: SpoolEntry, error: string, log: Logger): Promise<boolean> {
    const reason = `the reply queue ${entry.replyTo} refused the result: ${error}`;
    try {
      await this.#o.park(entry.result, reason, this.#o.signal);
    } catch (err) {
      if (!this.#o.signal.aborted)
        log.warn({ err }, "cannot park the result with the control plane; it stays spooled");
      return false;
    }
    log.warn({ reason }, "result parked with the control plane for its session's client");
    return true;
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

  #deleteInBackground(d: Delivery, log: Logger): void {
    const deleting = this.#deleteTask(d, log).finally(() => this.#deleting.delete(deleting));
    this.#deleting.add(deleting);
  }

  async #deleteTask(d: Delivery | SpoolEntry, log: Logger): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#batchers.delete(d.taskQueueUrl, d.receiptHandle);
        return;
      } catch (err) {
        if (classifyAwsError(err) !== "transient" || this.#o.signal.aborted) {
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

function describeSendError(err: unknown): string {
  const code = awsErrorCode(err);
  const message = describeError(err);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
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
