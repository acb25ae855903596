import type { Message } from "@aws-sdk/client-sqs";
import type { TaskKey } from "./cancellation-feed.ts";

// What the poller reads from a received message before the handler parses it fully.

/**
 * A message received for the first time less than this long after it was sent skips the
 * check before it starts: the client had next to no time to cancel, and waiting for a listing
 * would be a control-plane round trip on a short task's path. The same bound is how old the
 * listing that answers a check may be. Such a task is still checked while it runs (every
 * cancelPollIntervalSeconds) and stopped if it was cancelled.
 */
export const FRESH_MESSAGE_MS = 1_000;

/** Whether a cancel may have come before this message was received (it waited, or came back). */
export function mayHaveBeenCancelled(message: Message): boolean {
  const a = message.Attributes ?? {};
  const receives = Number(a.ApproximateReceiveCount ?? "1");
  // Both stamps are the queue service's clock: no skew with the client or this host.
  const waitedMs = Number(a.ApproximateFirstReceiveTimestamp) - Number(a.SentTimestamp);
  if (receives > 1 || !Number.isFinite(waitedMs)) return true;
  return waitedMs >= FRESH_MESSAGE_MS;
}

/** The task and session ids of a message body, if it has them; validation comes later. */
export function peekTask(body: string | undefined): TaskKey | undefined {
  try {
    const raw = JSON.parse(body ?? "") as { taskId?: unknown; sessionId?: unknown } | null;
    const { taskId, sessionId } = raw ?? {};
    return typeof taskId === "string" && typeof sessionId === "string"
      ? { taskId, sessionId }
      : undefined;
  } catch {
    return undefined;
  }
}
