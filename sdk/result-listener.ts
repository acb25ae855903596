import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { classifyAwsError } from "#core/aws/index.ts";
import { backoffDelayMs, sleep } from "#core/backoff.ts";
import type { ControlClient } from "#core/control/index.ts";
import { ConflictError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import type { ResultMessage } from "#core/protocol/index.ts";

/**
 * Results are journaled and deleted right after they arrive; a short lease means those a killed
 * client had received come back to its successor in seconds, not after the queue's 30 s.
 */
const RESULT_VISIBILITY_SECONDS = 5;
/** Result deletes in flight behind the receive loop. */
const MAX_DELETES_IN_FLIGHT = 8;

/**
 * What a ResultListener polls and whom it hands results to. The Executor builds one for its
 * session; use one directly only to collect a session's results without an Executor.
 */
export interface ResultListenerOptions {
  /** Receives from the result queue and deletes what was handled. */
  sqs: SQSClient;
  /** For parked results, and to re-open the session when its queue is gone. */
  control: Pick<ControlClient, "call">;
  /** The session whose results these are. */
  sessionId: string;
  /** The session's result queue (SessionRecord.resultQueueUrl). */
  queueUrl: string;
  /** Aborts the listener (the executor closes): `run` then resolves. */
  signal: AbortSignal;
  /** Where poll failures and a re-opened or closed session are reported; unset: nowhere. */
  logger?: Logger | undefined;
  /**
   * Handles a batch of raw message bodies from the queue; resolves once the results are
   * journaled, before they are deleted (a crash in between re-delivers them). Copies are
   * possible: drop them by task id.
   */
  onMessages(bodies: string[]): Promise<void>;
  /**
   * Handles results the control plane kept for the session (parked by agents). The same ones come
   * again at each check, and may duplicate queue results: drop them by task id.
   */
  onParked(results: ResultMessage[]): Promise<void>;
  /** Whether parked results may exist already (a reattach); a new session has none. @default false */
  reattached?: boolean;
  /** How many results the session still waits for; parked ones are sought only while some are. */
  pending(): number;
  /**
   * After this long with tasks pending and no result, ask the control plane for parked ones.
   * @default 30_000
   */
  parkedCheckIntervalMs?: number;
  /**
   * How long the queue may answer "does not exist" before the session is re-opened (which
   * recreates its queue): AWS documents about a second for a new queue.
   * @default 10_000
   */
  queueMissingWindowMs?: number;
}

/**
 * Long-polls a session's result queue, and collects the results agents parked with the control
 * plane because the queue refused them: at the start (a reattach), whenever the queue has been
 * quiet for a while with tasks pending, and instead of the queue once the session is closed.
 */
export class ResultListener {
  readonly #o: ResultListenerOptions;
  #lastResultAt = Date.now();
  #lastParkedCheck = 0;
  #missingSince: number | undefined;
  /** The session was closed elsewhere: only parked results can still come. */
  #closed = false;
  readonly #deleting = new Set<Promise<void>>();

  /** Nothing is contacted until `run`. */
  constructor(options: ResultListenerOptions) {
    this.#o = options;
  }

  /**
   * Poll until the signal aborts, then resolve. Receive failures are logged and retried with
   * capped backoff; it rejects only if `onMessages` does. A queue that stays missing re-opens the
   * session (recreating it), or finds the session closed and waits on parked results only.
   */
  async run(): Promise<void> {
    if (this.#o.reattached) await this.#collectParked();
    let failures = 0;
    while (!this.#o.signal.aborted) {
      if (this.#closed) {
        await sleep(this.#o.parkedCheckIntervalMs ?? 30_000, this.#o.signal);
        if (this.#o.pending() > 0) await this.#collectParked();
        continue;
      }
      const messages = await this.#receive().catch(async (err: unknown) => {
        if (this.#o.signal.aborted) return undefined;
        await this.#onReceiveError(err, failures++);
        return undefined;
      });
      if (!messages) continue;
      failures = 0;
      this.#missingSince = undefined;
      if (messages.length > 0) {
        this.#lastResultAt = Date.now();
        await this.#o.onMessages(messages.flatMap((m) => (m.Body === undefined ? [] : [m.Body])));
        await this.#deleteBehind(messages);
      } else if (this.#quietTooLong()) {
        await this.#collectParked();
      }
    }
    await Promise.all(this.#deleting);
  }

  async #receive(): Promise<Message[]> {
    const out = await this.#o.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#o.queueUrl,
        WaitTimeSeconds: 20,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: RESULT_VISIBILITY_SECONDS,
      }),
      { abortSignal: this.#o.signal },
    );
    return out.Messages ?? [];
  }

  async #onReceiveError(err: unknown, failures: number): Promise<void> {
    const log = this.#o.logger;
    if (classifyAwsError(err) === "queue-missing") {
      this.#missingSince ??= Date.now();
      if (Date.now() - this.#missingSince >= (this.#o.queueMissingWindowMs ?? 10_000)) {
        await this.#reopen();
        return;
      }
    } else {
      log?.warn({ err, sessionId: this.#o.sessionId }, "result poll failed; retrying");
    }
    // Capped: an outage must not become a busy loop.
    await sleep(backoffDelayMs(failures, { baseMs: 250, capMs: 10_000 }), this.#o.signal);
  }

  /** The queue stayed gone: re-open the session (recreating its queue), or learn it is closed. */
  async #reopen(): Promise<void> {
    this.#missingSince = undefined;
    try {
      await this.#o.control.call("openSession", { sessionId: this.#o.sessionId });
      this.#o.logger?.warn({ sessionId: this.#o.sessionId }, "result queue was gone; recreated");
    } catch (err) {
      // Conflict is the registry's answer for a closed session; anything else: try later.
      if (!(err instanceof ConflictError)) return;
      this.#closed = true;
      this.#o.logger?.warn(
        { sessionId: this.#o.sessionId },
        "the session was closed elsewhere: collecting its parked results only",
      );
    }
    await this.#collectParked();
  }

  #quietTooLong(): boolean {
    const interval = this.#o.parkedCheckIntervalMs ?? 30_000;
    const now = Date.now();
    return (
      this.#o.pending() > 0 &&
      now - this.#lastResultAt >= interval &&
      now - this.#lastParkedCheck >= interval
    );
  }

  async #collectParked(): Promise<void> {
    this.#lastParkedCheck = Date.now();
    try {
      await forEachParkedPage(this.#o.control, this.#o.sessionId, this.#o.signal, async (page) => {
        this.#lastResultAt = Date.now();
        await this.#o.onParked(page);
      });
    } catch (err) {
      // The next quiet period asks again.
      if (!this.#o.signal.aborted)
        this.#o.logger?.warn({ err, sessionId: this.#o.sessionId }, "cannot list parked results");
    }
  }

  /**
   * Delete while the next receive waits, not before it: awaiting each delete kept the queue
   * unwatched for a round trip after every result (20 ms of each no-op's latency at 20 ms per
   * call). A result not deleted comes back after RESULT_VISIBILITY_SECONDS and is dropped by
   * task id. At most MAX_DELETES_IN_FLIGHT wait at once; the rest wait here.
   */
  async #deleteBehind(messages: Message[]): Promise<void> {
    const deleting = this.#delete(messages).finally(() => this.#deleting.delete(deleting));
    this.#deleting.add(deleting);
    while (this.#deleting.size > MAX_DELETES_IN_FLIGHT) await Promise.race(this.#deleting);
  }

  async #delete(messages: Message[]): Promise<void> {
    const entries = messages
      .filter((m) => m.ReceiptHandle)
      .map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
    if (entries.length === 0) return;
    await this.#o.sqs
      .send(new DeleteMessageBatchCommand({ QueueUrl: this.#o.queueUrl, Entries: entries }), {
        abortSignal: this.#o.signal,
      })
      .catch((err: unknown) => {
        if (!this.#o.signal.aborted)
          this.#o.logger?.warn({ err }, "result delete failed; it may arrive again");
      });
  }
}

/**
 * Every result the control plane holds (parked) for a session, page by page, until the pages
 * end or `signal` aborts. Listing leaves them there: a second call sees them again.
 */
export async function forEachParkedPage(
  control: Pick<ControlClient, "call">,
  sessionId: string,
  signal: AbortSignal | undefined,
  onPage: (results: ResultMessage[]) => Promise<void>,
): Promise<void> {
  let after: string | undefined;
  do {
    const page = await control.call(
      "listParkedResults",
      { sessionId, ...(after === undefined ? {} : { after }) },
      signal ? { signal } : {},
    );
    if (page.results.length > 0) await onPage(page.results.map((p) => p.result));
    after = page.next;
  } while (after !== undefined && !signal?.aborted);
}
