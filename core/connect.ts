import type { AwsClients } from "./aws/client-config.ts";
import { createLazyAwsClients } from "./aws/lazy-clients.ts";
import { awsOptionsFor } from "./config/connect.ts";
import { type Deployment, readDeployment } from "./config/deployment.ts";
import { type FerryEnv, loadEnv } from "./config/env.ts";
import { ControlClient } from "./control/client.ts";

/** A deployment reached: its settings, AWS clients and control-plane client. */
export interface Connection {
  env: FerryEnv;
  /** The deployment file's stack outputs: bucket, queue prefix, registration function. */
  deployment: Deployment;
  /** SQS, S3 and Lambda clients for this deployment (injected everywhere below). */
  aws: AwsClients;
  /** Calls the registration function: endpoints, functions, sessions, cancellations. */
  control: ControlClient;
  /** Close the AWS clients' sockets. */
  close(): void;
}

/** Read env and the deployment file, and build the AWS clients and the control client. */
export async function connect(env: FerryEnv = loadEnv()): Promise<Connection> {
  const deployment = await readDeployment(env.deploymentPath, env.stackName);
  // Built on first use: a command that only calls the control plane loads no S3 or SQS client.
  const aws = createLazyAwsClients(awsOptionsFor(env, deployment));
  const control = new ControlClient({
    lambda: aws.lambda,
    functionName: deployment.registrationFunctionName,
    functionUrl: deployment.registrationFunctionUrl,
  });
  return { env, deployment, aws, control, close: () => aws.destroy() };
}
