import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { CancellationWatcher } from "./cancellation.ts";
import { FRESH_MESSAGE_MS, mayHaveBeenCancelled, peekTask } from "./received.ts";
import { RECEIVE_VISIBILITY_SECONDS } from "./visibility.ts";

/** A prefetched message not started within half its receive visibility goes back. */
const AHEAD_MAX_WAIT_MS = (RECEIVE_VISIBILITY_SECONDS * 1000) / 2;

const NONE: ReadonlySet<string> = new Set();

interface Ahead {
  message: Message;
  cancelled: Promise<ReadonlySet<string>>;
  receivedAt: number;
  /** When its batch's cancellation check answered; unset while it is pending. */
  checkedAt: number | undefined;
}

export interface PrefetchOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The run's signal (hand-backs go out while draining too). */
  signal: AbortSignal;
  cancellations: CancellationWatcher;
  /** Slots free now. */
  freeSlots(): number;
  /** Whether the agent still starts tasks (not draining). */
  active(): boolean;
  /** Start a message on a free slot, with its batch's cancellation answer. */
  start(message: Message, cancelled: Promise<ReadonlySet<string>>, receivedAt: number): void;
  /** Called whenever the queue shrinks: the poller may receive more. */
  changed(): void;
  /**
   * A message waited too long for a slot and went back: the slots are held by long tasks,
   * and receiving ahead again would only hand it back again, each round an SQS receive that
   * counts toward the task's maxAttempts.
   */
  stalled?(): void;
}

/**
 * Messages received ahead of free slots (prefetchTasks), oldest first. A receive batch gets
 * one cancellation check, not awaited by the poller; a message takes a slot only once its
 * check answered (a slot waiting on the control plane runs nothing: that capped throughput at
 * ~150 tasks/s). One that waits past half its receive visibility goes back to the queue for
 * another agent; one that waited over a second since its check is checked again.
 */
export class Prefetch {
  readonly #o: PrefetchOptions;
  readonly #ahead: Ahead[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PrefetchOptions) {
    this.#o = options;
  }

  get length(): number {
    return this.#ahead.length;
  }

  /** Queue a receive batch and start what can start. */
  add(messages: readonly Message[]): void {
    // Messages that reached us fresh are not checked: see mayHaveBeenCancelled.
    const tasks = messages.filter(mayHaveBeenCancelled).flatMap((m) => peekTask(m.Body) ?? []);
    const cancelled = tasks.length > 0 ? this.#o.cancellations.check(tasks) : Promise.resolve(NONE);
    const receivedAt = Date.now();
    const batch: Ahead[] = messages.map((message) => ({
      message,
      cancelled,
      receivedAt,
      checkedAt: tasks.length > 0 ? undefined : receivedAt,
    }));
    this.#ahead.push(...batch);
    if (tasks.length > 0) {
      void cancelled.then(() => {
        const at = Date.now();
        for (const a of batch) a.checkedAt = at;
        if (this.#o.active()) this.run();
      });
    }
    this.run();
  }

  /** Start checked messages on free slots, oldest first; hand back what waited too long. */
  run(): void {
    const now = Date.now();
    for (let i = 0; i < this.#ahead.length; ) {
      const next = this.#ahead[i];
      if (!next) break;
      if (now - next.receivedAt > AHEAD_MAX_WAIT_MS) {
        this.#ahead.splice(i, 1);
        this.handBack(next.message);
        this.#o.stalled?.();
        continue;
      }
      if (next.checkedAt === undefined || this.#o.freeSlots() === 0) {
        i++;
        continue;
      }
      this.#ahead.splice(i, 1);
      const stale = now - next.checkedAt >= FRESH_MESSAGE_MS;
      const task = stale ? peekTask(next.message.Body) : undefined;
      const cancelled = task ? this.#o.cancellations.check([task]) : next.cancelled;
      this.#o.start(next.message, cancelled, next.receivedAt);
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#ahead.length > 0) {
      // Slots may stay busy for hours: hand back what waits too long even then.
      this.#timer = setTimeout(() => this.run(), 1_000);
      this.#timer.unref();
    }
    this.#o.changed();
  }

  /** Make a received message visible again at once, for any agent. */
  handBack(message: Message): void {
    void this.#o.sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.#o.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
        { abortSignal: this.#o.signal },
      )
      .catch(() => {});
  }

  /** Give every prefetched message back (draining). */
  handBackAll(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const a of this.#ahead.splice(0)) this.handBack(a.message);
    this.#o.changed();
  }
}
