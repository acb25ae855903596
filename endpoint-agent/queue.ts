import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { classifyAwsError } from "#core/aws/index.ts";
import { backoffDelayMs, sleep } from "#core/backoff.ts";
import type { ControlClient } from "#core/control/index.ts";
import { ConfigError, NotFoundError, TransientError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import { queueNames } from "#core/names.ts";

export interface ResolveTaskQueueOptions {
  sqs: SQSClient;
  control: Pick<ControlClient, "call">;
  queuePrefix: string;
  endpointId: string;
  signal: AbortSignal;
  logger: Logger;
  /**
   * How long a registered endpoint's queue may answer "does not exist" before the agent gives
   * up: AWS documents that a new queue may not be usable for about a second, and a queue
   * recreated after a deletion takes longer.
   * @default 60_000
   */
  consistencyWindowMs?: number;
}

/**
 * The endpoint's task queue URL. A queue SQS does not know yet is waited for while the registry
 * says the endpoint exists (`ferry endpoint register` right before `ferry endpoint start` meets
 * AWS's new-queue window); an endpoint the registry does not know is a clear error at once.
 */
export async function resolveTaskQueueUrl(o: ResolveTaskQueueOptions): Promise<string> {
  const name = queueNames.tasks(o.queuePrefix, o.endpointId);
  const deadline = Date.now() + (o.consistencyWindowMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    let cause: unknown;
    try {
      const out = await o.sqs.send(new GetQueueUrlCommand({ QueueName: name }), {
        abortSignal: o.signal,
      });
      if (out.QueueUrl) return out.QueueUrl;
      cause = new Error("GetQueueUrl returned no URL");
    } catch (err) {
      cause = err;
    }
    const kind = classifyAwsError(cause);
    if (kind === "aborted" || o.signal.aborted) {
      throw new TransientError("stopped while looking up the task queue", { cause });
    }
    if (kind === "queue-missing" && (await isDeregistered(o.control, o.endpointId))) {
      throw new ConfigError(
        `endpoint ${o.endpointId} is not registered: run \`ferry endpoint register <name>\``,
        { cause, context: { endpointId: o.endpointId } },
      );
    }
    if (Date.now() >= deadline) {
      throw kind === "queue-missing"
        ? new ConfigError(
            `endpoint ${o.endpointId} is registered but its task queue ${name} does not exist`,
            {
              cause,
              context: { endpointId: o.endpointId },
              hint: "register the endpoint again with the same name and id to recreate it",
            },
          )
        : new TransientError(`cannot look up the task queue ${name}`, {
            cause,
            context: { endpointId: o.endpointId },
          });
    }
    o.logger.warn({ err: cause, queue: name }, "task queue not usable yet; retrying");
    await sleep(backoffDelayMs(attempt, { baseMs: 250, capMs: 5_000 }), o.signal);
  }
}

/**
 * Whether the registry says this endpoint does not exist. Only a definite "not found" counts:
 * an unreachable control plane, or one that cannot say, is not a deregistration.
 */
export async function isDeregistered(
  control: Pick<ControlClient, "call">,
  endpointId: string,
): Promise<boolean> {
  try {
    await control.call("describeEndpoint", { endpointId });
    return false;
  } catch (err) {
    return err instanceof NotFoundError;
  }
}

/**
 * The queue's redrive maxReceiveCount, or undefined (no redrive policy, or it cannot be read:
 * then tasks keep their own maxAttempts, as before).
 */
export async function readMaxReceiveCount(
  sqs: SQSClient,
  queueUrl: string,
  signal: AbortSignal,
): Promise<number | undefined> {
  try {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["RedrivePolicy"] }),
      { abortSignal: signal },
    );
    const policy = out.Attributes?.RedrivePolicy;
    if (!policy) return undefined;
    const count = Number((JSON.parse(policy) as { maxReceiveCount?: unknown }).maxReceiveCount);
    return Number.isInteger(count) && count > 0 ? count : undefined;
  } catch {
    return undefined;
  }
}
