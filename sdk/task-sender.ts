import type { SQSClient } from "@aws-sdk/client-sqs";
import type { TaskMessage } from "#core/protocol/index.ts";
import { sendInBatches } from "./batch-sender.ts";
import type { JournalEntry, SessionJournal } from "./journal.ts";

/** A task message on its way to its endpoint's queue. */
export interface Outgoing {
  queueUrl: string;
  id: string;
  body: string;
}

/** The journal's record of tasks about to be sent: written before they go out. */
export function submittedEntries(built: ReadonlyArray<{ task: TaskMessage; body: string }>) {
  return built.map(
    ({ task, body }): JournalEntry => ({
      kind: "submitted",
      taskId: task.taskId,
      endpointId: task.endpointId,
      function: task.function,
      topic: task.topic,
      at: task.created,
      message: body,
    }),
  );
}

/**
 * Send, by queue, then journal that the messages are out (so a reattach need not send them
 * again).
 */
export async function sendAndJournal(
  sqs: SQSClient,
  journal: SessionJournal | undefined,
  outgoing: readonly Outgoing[],
  signal: AbortSignal,
): Promise<void> {
  const byQueue = Map.groupBy(outgoing, (o) => o.queueUrl);
  await Promise.all(
    [...byQueue].map(async ([queueUrl, messages]) => {
      await sendInBatches(sqs, queueUrl, messages, { signal });
      await journal?.append([{ kind: "sent", taskIds: messages.map((m) => m.id), at: Date.now() }]);
    }),
  );
}
