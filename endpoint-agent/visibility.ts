import { ChangeMessageVisibilityCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SqsBatchers } from "#core/aws/index.ts";
import type { Logger } from "#core/logger.ts";
import { SQS_VISIBILITY_CEILING_SECONDS } from "#core/protocol/index.ts";

/**
 * Visibility of a message as received. Short, because a long poll cut by shutdown may still
 * take a message at the server: it must come back soon.
 */
export const RECEIVE_VISIBILITY_SECONDS = 10;

export interface VisibilityKeeperOptions {
  /** Extensions of many tasks share ChangeMessageVisibilityBatch calls. */
  batchers: SqsBatchers;
  queueUrl: string;
  receiptHandle: string;
  visibilityTimeoutSeconds: number;
  /** When the message was received: SQS's 12-hour ceiling counts from there. */
  receivedAt: number;
  signal: AbortSignal;
  logger: Logger;
}

/** Kept below the ceiling: clocks differ, and a refused extension is worse than a short one. */
const CEILING_MARGIN_SECONDS = 60;

/**
 * Keeps a running task's message invisible: every third of the visibility timeout it is set
 * back to the full timeout, so tasks of many hours are not delivered twice.
 */
export class VisibilityKeeper {
  readonly #o: VisibilityKeeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #stopped = false;
  #ceilingLogged = false;

  constructor(options: VisibilityKeeperOptions) {
    this.#o = options;
  }

  /**
   * Extend at once (messages are received with a short visibility: a task must not come back
   * if the network goes while it runs), then every third of the timeout.
   */
  start(): void {
    const periodMs = Math.max(500, (this.#o.visibilityTimeoutSeconds * 1000) / 3);
    const tick = () => {
      if (this.#stopped) return;
      this.#inFlight = this.#extend().finally(() => {
        this.#inFlight = undefined;
        if (!this.#stopped) this.#timer = setTimeout(tick, periodMs);
      });
    };
    tick();
  }

  /**
   * Stop, and wait for an extension in flight: a release or a later visibility must come
   * after it. `wait: false` for a result that is out: the delete may overtake the extension
   * (which then fails, unlogged), and a short task's result must not wait for that call,
   * about one AWS round trip on every short task's path.
   */
  async stop(options: { wait?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (options.wait !== false) await this.#inFlight;
  }

  async #extend(): Promise<void> {
    const elapsedSeconds = (Date.now() - this.#o.receivedAt) / 1000;
    const left = SQS_VISIBILITY_CEILING_SECONDS - CEILING_MARGIN_SECONDS - elapsedSeconds;
    const seconds = Math.floor(Math.min(this.#o.visibilityTimeoutSeconds, left));
    if (seconds <= 0) {
      // SQS refuses to go further: the message becomes visible and may run a second time.
      if (!this.#ceilingLogged) {
        this.#ceilingLogged = true;
        this.#o.logger.error(
          { elapsedSeconds: Math.round(elapsedSeconds) },
          "task reached SQS's 12-hour visibility ceiling: another agent may run it again",
        );
      }
      return;
    }
    try {
      await this.#o.batchers.changeVisibility(this.#o.queueUrl, this.#o.receiptHandle, seconds);
      this.#o.logger.debug("task visibility extended");
    } catch (err) {
      // Next tick tries again; if all fail, another agent may run it too (at-least-once).
      if (!this.#stopped && !this.#o.signal.aborted) {
        this.#o.logger.warn({ err }, "cannot extend task visibility");
      }
    }
  }
}

/** Make a message visible again after `seconds` (0: at once, for another agent). */
export async function setVisibility(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string,
  seconds: number,
  signal: AbortSignal,
): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: Math.round(seconds),
    }),
    { abortSignal: signal },
  );
}
