import { DeleteMessageCommand } from "@aws-sdk/client-sqs";
import type { Logger } from "#core/logger.ts";
import { PROTOCOL_VERSION, type ResultMessage, Uuid } from "#core/protocol/index.ts";
import { sendToDeadLetter } from "./dead-letter.ts";
import type { TaskContext } from "./task-context.ts";

/** The nil UUID stands in for a session id a malformed task did not carry. */
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

export interface Malformed {
  body: string;
  receiptHandle: string;
  receiveCount: number;
  reason: string;
  received: number;
}

/**
 * A body that is not a valid task: to the dead-letter queue with the reason, and, when it
 * names a task and a reply queue, a MalformedTask result so its sender is not left waiting.
 */
export async function handleMalformed(ctx: TaskContext, m: Malformed, log: Logger): Promise<void> {
  log.warn({ reason: m.reason }, "malformed task message: sent to the dead-letter queue");
  if (!(await deadLetter(ctx, m.body, m.reason, m.receiveCount, log))) return;
  const partial = salvage(m.body);
  if (partial) {
    const result: ResultMessage = {
      v: PROTOCOL_VERSION,
      taskId: partial.taskId,
      sessionId: partial.sessionId,
      topic: "default",
      attempt: m.receiveCount,
      ok: false,
      error: { type: "MalformedTask", message: m.reason, retriable: false },
      timings: {
        created: partial.created ?? m.received,
        sent: partial.sent ?? m.received,
        received: m.received,
        resultSent: m.received,
      },
      worker: { endpointId: ctx.endpointId, host: ctx.host, pid: process.pid },
    };
    await ctx.results.deliver({
      result,
      replyTo: partial.replyTo,
      taskQueueUrl: ctx.taskQueueUrl,
      receiptHandle: m.receiptHandle,
    });
    return;
  }
  await ctx.deps.sqs
    .send(
      new DeleteMessageCommand({ QueueUrl: ctx.taskQueueUrl, ReceiptHandle: m.receiptHandle }),
      { abortSignal: ctx.runSignal },
    )
    .catch((err: unknown) => log.warn({ err }, "cannot delete a dead-lettered message"));
}

/**
 * A task that must not be answered (its reply address is not its session's): to the
 * dead-letter queue with the reason, and deleted, without a result.
 */
export async function refuseSilently(
  ctx: TaskContext,
  m: Omit<Malformed, "received">,
  log: Logger,
): Promise<void> {
  log.warn({ reason: m.reason }, "task refused without a reply: sent to the dead-letter queue");
  if (!(await deadLetter(ctx, m.body, m.reason, m.receiveCount, log))) return;
  await ctx.deps.sqs
    .send(
      new DeleteMessageCommand({ QueueUrl: ctx.taskQueueUrl, ReceiptHandle: m.receiptHandle }),
      { abortSignal: ctx.runSignal },
    )
    .catch((err: unknown) => log.warn({ err }, "cannot delete a dead-lettered message"));
}

/** Dead-letter a message; false when that failed (then the message is left for later). */
export async function deadLetter(
  ctx: TaskContext,
  body: string,
  reason: string,
  receiveCount: number,
  log: Logger,
): Promise<boolean> {
  try {
    await sendToDeadLetter(
      ctx.deps.sqs,
      ctx.deps.deadLetterQueueUrl,
      { body, reason, sourceQueueUrl: ctx.taskQueueUrl, endpointId: ctx.endpointId, receiveCount },
      ctx.runSignal,
    );
    return true;
  } catch (err) {
    log.error({ err }, "cannot send to the dead-letter queue; the message stays in the task queue");
    return false;
  }
}

/** What a malformed body still tells us: enough to tell its sender, if it has an address. */
function salvage(
  body: string,
):
  | { taskId: string; sessionId: string; replyTo: string; created?: number; sent?: number }
  | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (!Uuid.safeParse(r.taskId).success || typeof r.replyTo !== "string" || r.replyTo === "")
    return undefined;
  const num = (v: unknown) =>
    typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
  const created = num(r.created);
  const sent = num(r.sent);
  return {
    taskId: r.taskId as string,
    sessionId: Uuid.safeParse(r.sessionId).success ? (r.sessionId as string) : NIL_UUID,
    replyTo: r.replyTo,
    ...(created === undefined ? {} : { created }),
    ...(sent === undefined ? {} : { sent }),
  };
}
