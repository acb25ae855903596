// The AWS clients' options and settings, with no SDK client package loaded (type imports only).
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { LambdaClient, LambdaClientConfig } from "@aws-sdk/client-lambda";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { AwsCredentialIdentity } from "@smithy/types";

export interface AwsClientOptions {
  region: string;
  /** Per-service endpoint overrides (emulator, LocalStack). Unset: the SDK's own resolution. */
  endpoints?: { sqs?: string | undefined; s3?: string | undefined; lambda?: string | undefined };
  /** Explicit credentials; unset: the standard AWS credential chain. */
  credentials?: AwsCredentialIdentity;
  /**
   * Sockets per client. Long polls hold a socket for 20 s each, so the SDK's default of 50
   * starves a process that polls many queues.
   * @default 256
   */
  maxSockets?: number;
  /** Attempts per call for the SDK's own retry of throttling and 5xx. @default 5 */
  maxAttempts?: number;
  /**
   * Where to read HTTPS_PROXY / HTTP_PROXY / NO_PROXY from. HPC compute nodes often reach the
   * internet only through a proxy; Node 24's agents honour these when given them (Node 22 ignores it).
   * @default process.env
   */
  proxyEnv?: NodeJS.ProcessEnv;
}

export interface AwsClients {
  sqs: SQSClient;
  s3: S3Client;
  lambda: LambdaClient;
  destroy(): void;
}

/** Emulators accept any key; the SDK still needs one to sign. */
export const EMULATOR_CREDENTIALS: AwsCredentialIdentity = {
  accessKeyId: "test",
  secretAccessKey: "test",
};

/** Each client's configuration: shared by the eager (clients.ts) and lazy builders. */
export function clientConfigs(options: AwsClientOptions): {
  sqs: SQSClientConfig;
  s3: S3ClientConfig;
  lambda: LambdaClientConfig;
} {
  const maxSockets = options.maxSockets ?? 256;
  // `proxyEnv` is a Node 24 agent option that @types/node does not describe yet.
  const agentOptions = { keepAlive: true, maxSockets, proxyEnv: options.proxyEnv ?? process.env };
  const requestHandler = () =>
    new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      // Long polls wait up to 20 s; leave room before calling a socket dead.
      requestTimeout: 40_000,
      connectionTimeout: 5_000,
    });
  const common = {
    region: options.region,
    maxAttempts: options.maxAttempts ?? 5,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const endpoints = options.endpoints ?? {};
  return {
    sqs: {
      ...common,
      requestHandler: requestHandler(),
      ...(endpoints.sqs ? { endpoint: endpoints.sqs } : {}),
      // Emulators answer with queue URLs whose host may not resolve: always use the endpoint.
      useQueueUrlAsEndpoint: false,
    },
    s3: {
      ...common,
      requestHandler: requestHandler(),
      ...(endpoints.s3 ? { endpoint: endpoints.s3, forcePathStyle: true } : {}),
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    },
    lambda: {
      ...common,
      requestHandler: requestHandler(),
      ...(endpoints.lambda ? { endpoint: endpoints.lambda } : {}),
    },
  };
}
