import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createAwsClients, EMULATOR_CREDENTIALS, untilQueueAnswers } from "#core/aws/index.ts";
import { ConfigError } from "#core/errors.ts";
import type { BackendOptions, EmulatorServer, LocalBackend } from "./backend.ts";
import { startCompatS3 } from "./compat-s3.ts";
import { startCompatSqs } from "./compat-sqs.ts";

/** How long a new queue may stay unusable before provisioning gives up. */
const QUEUE_READY_TIMEOUT_MS = 15_000;
const QUEUE_READY_POLL_MS = 100;

/**
 * The second, independent backend: local-aws-sqs with AWS's lazy queue creation (SQS) and
 * s3rver (S3), on two ports, provisioned through the AWS SDK as CloudFormation would.
 */
export async function startCompatBackend(options: BackendOptions): Promise<LocalBackend> {
  const sqs = await startCompatSqs({
    port: options.port ?? 0,
    region: options.region,
    accountId: options.accountId,
  });
  let s3: EmulatorServer;
  try {
    s3 = await startCompatS3({
      port: options.s3Port ?? 0,
      directory: join(options.home, "local", "s3rver"),
    });
  } catch (error) {
    await sqs.close();
    throw error;
  }
  const aws = createAwsClients({
    region: options.region,
    endpoints: { sqs: sqs.url, s3: s3.url },
    credentials: EMULATOR_CREDENTIALS,
  });
  return {
    name: "compat",
    sqsEndpointUrl: sqs.url,
    s3EndpointUrl: s3.url,
    async createBucket(bucket) {
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket.name }));
    },
    async createQueue(queue) {
      const { QueueUrl } = await aws.sqs.send(
        new CreateQueueCommand({ QueueName: queue.name, Attributes: queue.attributes }),
      );
      // The plan (local/template.ts) wrote this URL into outputs and the Lambda's environment.
      const planned = `${sqs.url}/${options.accountId}/${queue.name}`;
      if (QueueUrl !== planned) {
        throw new ConfigError(
          `compat backend: queue ${queue.name} has URL ${QueueUrl}, the plan says ${planned}`,
        );
      }
      await untilUsable(aws.sqs, planned);
    },
    async stop() {
      aws.destroy();
      await Promise.all([sqs.close(), s3.close()]);
    },
  };
}

/**
 * A new queue answers QueueDoesNotExist for about a second (local-aws-sqs emulates AWS here);
 * CloudFormation reports a queue created only once it is usable, so wait the same way.
 */
async function untilUsable(sqs: SQSClient, queueUrl: string): Promise<void> {
  const ready = await untilQueueAnswers(sqs, queueUrl, {
    timeoutMs: QUEUE_READY_TIMEOUT_MS,
    pollMs: QUEUE_READY_POLL_MS,
  });
  if (!ready) {
    throw new ConfigError(
      `compat backend: queue ${queueUrl} still does not exist ${QUEUE_READY_TIMEOUT_MS / 1000} s after CreateQueue`,
    );
  }
}
