import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { hasAwsCode, isQueueMissing, untilQueueAnswers } from "#core/aws/index.ts";
import { TransientError } from "#core/errors.ts";

/**
 * How long a new queue may stay unusable before ensureQueue returns anyway. AWS: "wait at least
 * one second after the queue is created to be able to use the queue"; callers still tolerate a
 * queue that is not visible to every SQS host yet.
 */
const NEW_QUEUE_WAIT_MS = 5_000;
const NEW_QUEUE_POLL_MS = 200;

/**
 * Create a queue, or converge an existing one to `attributes` (CreateQueue refuses an existing
 * name whose attributes differ, e.g. after the stack's maxReceiveCount changed). Returns its URL
 * once the queue answers, so that "registered" means "usable" for the caller.
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
    // Bounded and best effort: callers still tolerate a queue not yet visible everywhere.
    await untilQueueAnswers(sqs, out.QueueUrl, {
      timeoutMs: NEW_QUEUE_WAIT_MS,
      pollMs: NEW_QUEUE_POLL_MS,
    }).catch(() => false);
    return out.QueueUrl;
  } catch (error) {
    if (hasAwsCode(error, "QueueDeletedRecently")) {
      throw new TransientError(`queue ${name} was deleted less than 60 s ago`, {
        cause: error,
        hint: "SQS refuses to recreate a queue name for 60 s; retry after that",
      });
    }
    if (!hasAwsCode(error, "QueueNameExists") && !hasAwsCode(error, "QueueAlreadyExists"))
      throw error;
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
    if (!isQueueMissing(error)) throw error;
  }
}
