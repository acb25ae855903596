import { type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { isQueueMissing } from "#core/aws/index.ts";
import { backoffDelayMs, sleep } from "#core/backoff.ts";
import type { Logger } from "#core/logger.ts";
import type { SiteConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";
import { PASSED_BY_ATTRIBUTE } from "./pass-on.ts";
import { isDeregistered } from "./queue.ts";
import { RECEIVE_VISIBILITY_SECONDS } from "./visibility.ts";

/** SQS receives at most 10 messages per call. */
const MAX_RECEIVE_BATCH = 10;

/** The task queue to poll, and how the agent takes what comes. */
export interface ReceiveLoopOptions {
  deps: Pick<AgentDeps, "sqs" | "control">;
  endpointId: string;
  queueUrl: string;
  config: Pick<SiteConfig, "pollWaitSeconds" | "visibilityTimeoutSeconds">;
  /** Stops the loop: the run's end, or draining. */
  signal: AbortSignal;
  /** How many messages may be received now (free slots and prefetch room). */
  room(): number;
  /** Resolves when there may be room again (or the signal aborts). */
  waitForRoom(signal: AbortSignal): Promise<void>;
  /** A non-empty receive batch. */
  received(messages: Message[]): void;
  /** The endpoint was deregistered and its queue deleted: nothing more will come. */
  deregistered(): void;
  logger: Logger;
}

/**
 * - `messages`: what one long poll brought (maybe nothing).
 * - `stopped`: the signal aborted the poll.
 * - `deregistered`: the queue is gone because the endpoint is.
 * - `failed`: anything else; polled again after a backoff.
 */
type Receipt =
  | { kind: "messages"; messages: Message[] }
  | { kind: "stopped" }
  | { kind: "deregistered"; err: unknown }
  | { kind: "failed"; err: unknown };

/** Long polls in flight at once, most. */
const MAX_POLLERS = 4;

/**
 * Long polls to keep in flight for this much room: one per full receive batch. One poll at a
 * time capped a busy agent at 10 messages per receive round trip (about 400 tasks/s on the
 * local emulator, whatever its slots).
 */
export function pollersFor(room: number): number {
  return Math.max(1, Math.min(MAX_POLLERS, Math.ceil(room / MAX_RECEIVE_BATCH)));
}

/**
 * The receive stage: long-poll the task queue for as many messages as there is room for,
 * with up to `pollers` polls in flight (each asks for room no other poll has claimed), until
 * the signal aborts or the endpoint is found deregistered.
 */
export async function receiveLoop(o: ReceiveLoopOptions, pollers = 1): Promise<void> {
  const claims = { claimed: 0 };
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  const deregistered = () => {
    // Every poll stops; the agent hears it once.
    if (stop.signal.aborted) return;
    stop.abort();
    o.deregistered();
  };
  const each = { ...o, signal, deregistered };
  await Promise.all(Array.from({ length: pollers }, () => pollLoop(each, claims)));
}

async function pollLoop(o: ReceiveLoopOptions, claims: { claimed: number }): Promise<void> {
  let failures = 0;
  while (!o.signal.aborted) {
    const room = Math.min(o.room() - claims.claimed, MAX_RECEIVE_BATCH);
    if (room <= 0) {
      await o.waitForRoom(o.signal);
      continue;
    }
    // The claim ends in the same synchronous step as `received` counts the messages in: room
    // released a step earlier would let another poll ask for it twice.
    claims.claimed += room;
    let receipt: Receipt;
    try {
      receipt = await receiveBatch(o, room);
    } finally {
      claims.claimed -= room;
    }
    if (receipt.kind === "stopped") break;
    if (receipt.kind === "deregistered") {
      // Deregistered under us: nothing more will come; finish what runs and stop.
      const message = "the endpoint was deregistered and its queue deleted: stopping";
      o.logger.error({ err: receipt.err }, message);
      o.deregistered();
      break;
    }
    if (receipt.kind === "failed") {
      // Anything else, a missing queue of a registered endpoint included (AWS answers so
      // for a while after CreateQueue), passes: back off and poll again.
      const delayMs = backoffDelayMs(failures++, { baseMs: 1_000, capMs: 30_000 });
      o.logger.warn({ err: receipt.err, retryInMs: delayMs }, "cannot receive tasks; retrying");
      await sleep(delayMs, o.signal);
      continue;
    }
    failures = 0;
    if (receipt.messages.length > 0) o.received(receipt.messages);
  }
}

async function receiveBatch(o: ReceiveLoopOptions, room: number): Promise<Receipt> {
  try {
    const out = await o.deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: o.queueUrl,
        MaxNumberOfMessages: Math.min(room, MAX_RECEIVE_BATCH),
        WaitTimeSeconds: o.config.pollWaitSeconds,
        VisibilityTimeout: Math.min(o.config.visibilityTimeoutSeconds, RECEIVE_VISIBILITY_SECONDS),
        MessageSystemAttributeNames: [
          "ApproximateReceiveCount",
          "SentTimestamp",
          "ApproximateFirstReceiveTimestamp",
        ],
        // Group tasks name the members that passed them on (pass-on.ts).
        MessageAttributeNames: [PASSED_BY_ATTRIBUTE],
      }),
      { abortSignal: o.signal },
    );
    return { kind: "messages", messages: out.Messages ?? [] };
  } catch (err) {
    if (o.signal.aborted) return { kind: "stopped" };
    if (isQueueMissing(err) && (await isDeregistered(o.deps.control, o.endpointId))) {
      return { kind: "deregistered", err };
    }
    return { kind: "failed", err };
  }
}
