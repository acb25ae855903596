import { randomUUID } from "node:crypto";
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** A plain queue of the baselines, in the same emulator as Ferry's, with Ferry's message size. */
export async function createRawQueue(sqs: SQSClient, purpose: string): Promise<string> {
  const out = await sqs.send(
    new CreateQueueCommand({
      QueueName: `bench-${purpose}-${randomUUID().slice(0, 8)}`,
      Attributes: { MaximumMessageSize: "1048576", VisibilityTimeout: "30" },
    }),
  );
  if (!out.QueueUrl) throw new Error("CreateQueue returned no URL");
  return out.QueueUrl;
}

export async function deleteRawQueue(sqs: SQSClient, url: string): Promise<void> {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
}

/** What a baseline worker child needs to reach the emulator and its two queues. */
export interface WorkerArgs {
  region: string;
  sqsEndpoint: string;
  requestQueueUrl: string;
  replyQueueUrl: string;
}
