import { GetQueueUrlCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { ConfigError, TransientError } from "#core/errors.ts";
import { queueNames } from "#core/names.ts";

/** The endpoint's task queue URL; a clear error when the endpoint was never registered. */
export async function resolveTaskQueueUrl(
  sqs: SQSClient,
  queuePrefix: string,
  endpointId: string,
  signal: AbortSignal,
): Promise<string> {
  const name = queueNames.tasks(queuePrefix, endpointId);
  try {
    const out = await sqs.send(new GetQueueUrlCommand({ QueueName: name }), {
      abortSignal: signal,
    });
    if (!out.QueueUrl) throw new Error("GetQueueUrl returned no URL");
    return out.QueueUrl;
  } catch (cause) {
    if (isQueueGone(cause)) {
      throw new ConfigError(
        `endpoint ${endpointId} is not registered: run \`ferry endpoint register <name>\``,
        { cause, context: { endpointId } },
      );
    }
    throw new TransientError(`cannot look up the task queue ${name}`, {
      cause,
      context: { endpointId },
    });
  }
}

/** SQS's answer for a queue that does not exist (never created, or deleted). */
export function isQueueGone(err: unknown): boolean {
  const name = (err as { name?: string }).name ?? "";
  return name.includes("QueueDoesNotExist") || name.includes("NonExistentQueue");
}
