import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ControlClient } from "#core/control/index.ts";
import type { Logger } from "#core/logger.ts";

/** Everything the agent talks to, injected so tests and the CLI choose the clients. */
export interface AgentDeps {
  sqs: SQSClient;
  s3: S3Client;
  control: Pick<ControlClient, "call">;
  /** The store bucket holding function bundles. */
  bucket: string;
  queuePrefix: string;
  deadLetterQueueUrl: string;
  logger: Logger;
}
