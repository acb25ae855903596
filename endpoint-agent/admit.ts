import type { Message } from "@aws-sdk/client-sqs";
import { parseJsonWith, TaskMessage } from "#core/protocol/index.ts";
import { addressRefusal, policyRefusal, replyToRefusal } from "./policy.ts";
import type { MessageJob, TaskContext } from "./task-context.ts";

// The admit stage: whether a received message is a task this agent may run, in two steps.
// admitMessage needs nothing but the body; admitToRun waits on the control plane, so the
// message's visibility is kept up (the task attempt's keeper) before it is called.

/** What a received message carries besides its body's task. */
export interface ReceivedMessage {
  body: string;
  receiptHandle: string;
  /** SQS's ApproximateReceiveCount: this receive is the task's attempt number. */
  receiveCount: number;
}

/**
 * - `malformed`: not a valid task; dead-lettered, with a result if it names a reply queue.
 * - `unanswerable`: its replyTo is not its session's result queue; dead-lettered, no result.
 * - `exhausted`: received more often than it may run; dead-lettered, with a result.
 * - `admitted`: the task goes on to admitToRun.
 */
export type Admission =
  | { kind: "malformed"; reason: string }
  | { kind: "unanswerable"; task: TaskMessage; reason: string }
  | { kind: "exhausted"; task: TaskMessage; reason: string }
  | { kind: "admitted"; task: TaskMessage };

/** Whether the task, once admitted, runs: cancelled first, then the site's policy. */
export type StartAdmission =
  | { kind: "run" }
  | { kind: "cancelled" }
  | { kind: "refused"; reason: string }
  /** A group task this member may not run: another member may (pass-on.ts). */
  | { kind: "pass"; reason: string };

/** The parts of a received message that admission and its answers use. */
export function receivedMessage(message: Message): ReceivedMessage {
  return {
    body: message.Body ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? "1") || 1,
  };
}

/** Parse the body, check its reply address and its attempts. Never throws. */
export function admitMessage(ctx: TaskContext, m: ReceivedMessage): Admission {
  let task: TaskMessage;
  try {
    task = parseJsonWith(TaskMessage, m.body, "task message", { endpointId: ctx.endpointId });
  } catch (err) {
    return { kind: "malformed", reason: err instanceof Error ? err.message : String(err) };
  }
  const badReply = replyToRefusal(task, ctx.deps.queuePrefix);
  if (badReply) return { kind: "unanswerable", task, reason: badReply };
  const attemptLimit = attemptsAllowed(task.maxAttempts, ctx.maxReceiveCount);
  if (m.receiveCount > attemptLimit) {
    const cappedBy =
      attemptLimit < task.maxAttempts
        ? `, and the task queue's redrive policy allows ${attemptLimit} (maxReceiveCount ${ctx.maxReceiveCount})`
        : "";
    const reason = `received ${m.receiveCount} times, more than its maxAttempts (${task.maxAttempts}${cappedBy}): the agents running it kept stopping before reporting a result`;
    return { kind: "exhausted", task, reason };
  }
  return { kind: "admitted", task };
}

/**
 * Whether an admitted task runs. Cancellation is checked first: a cancelled task is not
 * fetched, resolved or refused, only reported.
 */
export async function admitToRun(
  ctx: TaskContext,
  job: MessageJob,
  task: TaskMessage,
): Promise<StartAdmission> {
  if ((await job.cancelledAtReceive).has(task.taskId)) return { kind: "cancelled" };
  const misaddressed = addressRefusal(ctx, task);
  if (misaddressed) return { kind: "refused", reason: misaddressed };
  const reason = policyRefusal(ctx, task);
  if (!reason) return { kind: "run" };
  return ctx.group ? { kind: "pass", reason } : { kind: "refused", reason };
}

/**
 * Attempts a task gets: its own maxAttempts, but fewer than the queue's maxReceiveCount. On the
 * receive after that SQS moves the message to the dead-letter queue itself, where no agent
 * sees it and no result would ever be sent: the agent must be the one to give up, and say so.
 */
export function attemptsAllowed(maxAttempts: number, maxReceiveCount: number | undefined): number {
  if (maxReceiveCount === undefined) return maxAttempts;
  return Math.max(1, Math.min(maxAttempts, maxReceiveCount - 1));
}
