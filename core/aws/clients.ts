import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type AwsClientOptions, type AwsClients, clientConfigs } from "./client-config.ts";

export {
  type AwsClientOptions,
  type AwsClients,
  EMULATOR_CREDENTIALS,
} from "./client-config.ts";

/** The three clients, built now (agents, the registration function: they use them all). */
export function createAwsClients(options: AwsClientOptions): AwsClients {
  const config = clientConfigs(options);
  const sqs = new SQSClient(config.sqs);
  const s3 = new S3Client(config.s3);
  const lambda = new LambdaClient(config.lambda);
  return {
    sqs,
    s3,
    lambda,
    destroy() {
      sqs.destroy();
      s3.destroy();
      lambda.destroy();
    },
  };
}
