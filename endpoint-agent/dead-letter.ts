import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";

export interface DeadLetter {
  body: string;
  reason: string;
  sourceQueueUrl: string;
  endpointId: string;
  receiveCount: number;
}

/**
 * Send a message to the dead-letter queue unchanged (so it can be redriven), with why it is
 * there in message attributes.
 */
export async function sendToDeadLetter(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  letter: DeadLetter,
  signal: AbortSignal,
): Promise<void> {
  const text = (value: string) => ({ DataType: "String", StringValue: value });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: deadLetterQueueUrl,
      // SQS refuses an empty body.
      MessageBody: letter.body === "" ? "(empty body)" : letter.body,
      MessageAttributes: {
        FerryReason: text(letter.reason.slice(0, 4_000)),
        FerrySourceQueue: text(letter.sourceQueueUrl),
        FerryEndpointId: text(letter.endpointId),
        FerryReceiveCount: { DataType: "Number", StringValue: String(letter.receiveCount) },
      },
    }),
    { abortSignal: signal },
  );
}
