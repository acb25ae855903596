import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { ConflictError } from "./errors.ts";

/**
 * Create a queue, or converge an existing one to `attributes` (CreateQueue refuses an existing
 * name whose attributes differ, e.g. after the stack's maxReceiveCount changed). Returns its URL.
 */
export async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
  tags: Record<string, string>,
): Promise<string> {
  try {
    const out = await sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes, tags }),
    );
    if (!out.QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
    return out.QueueUrl;
  } catch (error) {
    if (hasCode(error, "QueueDeletedRecently")) {
      throw new ConflictError(`queue ${name} was deleted less than 60 s ago`, {
        cause: error,
        hint: "SQS refuses to recreate a queue name for 60 s; retry after that",
      });
    }
    if (!hasCode(error, "QueueNameExists") && !hasCode(error, "QueueAlreadyExists")) throw error;
  }
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`GetQueueUrl ${name} returned no URL`);
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  return QueueUrl;
}

/** Delete a queue; one that is already gone is fine (deregistration may be retried). */
export async function deleteQueue(sqs: SQSClient, queueUrl: string): Promise<void> {
  try {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  } catch (error) {
    if (!hasCode(error, "QueueDoesNotExist") && !hasCode(error, "NonExistentQueue")) throw error;
  }
}

/**
 * SQS names its errors both ways depending on protocol and service: `QueueNameExists` as the
 * SDK class name, `AWS.SimpleQueueService.QueueNameExists` as the wire code.
 */
function hasCode(error: unknown, code: string): boolean {
  const e = error as { name?: unknown; Code?: unknown };
  return [e?.name, e?.Code].some(
    (value) => value === code || value === `AWS.SimpleQueueService.${code}`,
  );
}
