import { setTimeout as sleep } from "node:timers/promises";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { isQueueMissing } from "./errors.ts";

/**
 * Poll a queue just created until it answers, as CloudFormation does before it reports one
 * created: on AWS a new queue answers QueueDoesNotExist for about a second. Resolves true once
 * it answers, false when it still does not at the deadline; any other error is thrown.
 */
export async function untilQueueAnswers(
  sqs: SQSClient,
  queueUrl: string,
  options: { timeoutMs: number; pollMs: number },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
      );
      return true;
    } catch (error) {
      if (!isQueueMissing(error)) throw error;
      if (Date.now() >= deadline) return false;
    }
    await sleep(options.pollMs);
  }
}
