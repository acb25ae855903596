import { type AwsClientOptions, EMULATOR_CREDENTIALS } from "../aws/client-config.ts";
import type { Deployment } from "./deployment.ts";
import type { FerryEnv } from "./env.ts";

/**
 * Where to reach AWS: explicit env endpoints (AWS_ENDPOINT_URL*, e.g. LocalStack) win over
 * those a local deployment file records; with neither, the SDK's own resolution (real AWS).
 */
export function awsOptionsFor(env: FerryEnv, deployment: Deployment): AwsClientOptions {
  const endpoints = {
    sqs: env.endpoints.sqs ?? deployment.endpoints.sqs,
    s3: env.endpoints.s3 ?? deployment.endpoints.s3,
    lambda: env.endpoints.lambda ?? deployment.endpoints.lambda,
  };
  const emulated = Boolean(endpoints.sqs || endpoints.s3 || endpoints.lambda);
  return {
    region: env.region ?? deployment.region,
    endpoints,
    ...(env.staticCredentials
      ? { credentials: env.staticCredentials }
      : emulated && !env.hasStaticCredentials
        ? { credentials: EMULATOR_CREDENTIALS }
        : {}),
  };
}
