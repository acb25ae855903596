import { type AwsClientOptions, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import { loadEnv } from "#core/config/index.ts";
import { ConfigError } from "#core/errors.ts";

export interface RegistrationConfig {
  bucket: string;
  dlqArn: string;
  queuePrefix: string;
  maxReceiveCount: number;
  aws: AwsClientOptions;
}

/**
 * Read the Lambda's environment (set by FerryStack, or by the local Lambda host). All missing
 * variables are named at once, so one redeploy fixes them.
 */
export function loadRegistrationConfig(env: NodeJS.ProcessEnv = process.env): RegistrationConfig {
  const ferryEnv = loadEnv(env);
  const missing: string[] = [];
  const required = (name: string, value: string | undefined): string => {
    if (!value) missing.push(name);
    return value ?? "";
  };
  const bucket = required("FERRY_BUCKET", env.FERRY_BUCKET);
  const dlqArn = required("FERRY_DLQ_ARN", env.FERRY_DLQ_ARN);
  const queuePrefix = required("FERRY_QUEUE_PREFIX", env.FERRY_QUEUE_PREFIX);
  const maxReceiveText = required("FERRY_MAX_RECEIVE_COUNT", env.FERRY_MAX_RECEIVE_COUNT);
  const region = required("AWS_REGION", ferryEnv.region);
  if (missing.length > 0) {
    throw new ConfigError(
      `registration function: missing environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
      { hint: "deploy with FerryStack, which sets them" },
    );
  }
  const maxReceiveCount = Number(maxReceiveText);
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1_000) {
    throw new ConfigError(
      `registration function: FERRY_MAX_RECEIVE_COUNT must be an integer in 1..1000, got "${maxReceiveText}"`,
    );
  }
  const { endpoints } = ferryEnv;
  const emulated = Boolean(endpoints.sqs || endpoints.s3);
  return {
    bucket,
    dlqArn,
    queuePrefix,
    maxReceiveCount,
    aws: {
      region,
      endpoints: { sqs: endpoints.sqs, s3: endpoints.s3 },
      // An emulator needs some key to sign with; real AWS uses the function's role.
      ...(emulated && !ferryEnv.hasStaticCredentials ? { credentials: EMULATOR_CREDENTIALS } : {}),
    },
  };
}
