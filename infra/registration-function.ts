import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { LogLevel, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Bucket } from "aws-cdk-lib/aws-s3";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { keyPrefixes, queueNames } from "#core/names.ts";

// The registration Lambda of FerryStack: its bundle, its settings and its own permissions.

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The registration Lambda's entry point, which FerryStack bundles. */
export const REGISTRATION_ENTRY = join(REPO_ROOT, "functions", "registration", "handler.ts");
/** CommonJS dependencies inside an ESM bundle still call require(): the bundle defines it. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __ferryCreateRequire } from 'node:module'; const require = __ferryCreateRequire(import.meta.url);";

/** What the registration Lambda is configured with. */
export interface RegistrationFunctionProps {
  bucket: Bucket;
  deadLetterQueue: Queue;
  queuePrefix: string;
  maxReceiveCount: number;
  /** Reserved concurrency; unset: unreserved. */
  reservedConcurrency: number | undefined;
}

/** The registration Lambda and its log group, bundled from REGISTRATION_ENTRY. */
export function registrationFunction(
  scope: Construct,
  props: RegistrationFunctionProps,
): NodejsFunction {
  const logGroup = new LogGroup(scope, "RegistrationLogs", {
    retention: RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return new NodejsFunction(scope, "Registration", {
    entry: REGISTRATION_ENTRY,
    handler: "handler",
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.seconds(30),
    ...(props.reservedConcurrency === undefined
      ? {}
      : { reservedConcurrentExecutions: props.reservedConcurrency }),
    logGroup,
    description: "Ferry control plane: endpoints, functions, sessions, heartbeats",
    environment: {
      FERRY_BUCKET: props.bucket.bucketName,
      FERRY_DLQ_ARN: props.deadLetterQueue.queueArn,
      FERRY_QUEUE_PREFIX: props.queuePrefix,
      FERRY_MAX_RECEIVE_COUNT: String(props.maxReceiveCount),
      NODE_OPTIONS: "--enable-source-maps",
    },
    bundling: {
      format: OutputFormat.ESM,
      forceDockerBundling: false,
      // Pin the SDK we test with instead of the runtime's, so local runs match the cloud.
      bundleAwsSDK: true,
      externalModules: [],
      mainFields: ["module", "main"],
      banner: ESM_REQUIRE_BANNER,
      minify: true,
      sourceMap: true,
      logLevel: LogLevel.ERROR,
    },
  });
}

/** The registration Lambda's own permissions: its queues and its part of the bucket. */
export function grantRegistration(
  registration: NodejsFunction,
  bucket: Bucket,
  queueArn: (name: string) => string,
  queuePrefix: string,
): void {
  registration.addToRolePolicy(
    statement(
      [
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "sqs:SetQueueAttributes",
        "sqs:TagQueue",
      ],
      // Only the queues it creates at run time: not the dead-letter queue, and not another
      // stack's queues whose prefix merely starts the same way.
      [
        queueArn(queueNames.tasks(queuePrefix, "*")),
        queueArn(queueNames.results(queuePrefix, "*")),
      ],
    ),
  );
  registration.addToRolePolicy(
    statement(
      ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      [bucket.arnForObjects(`${keyPrefixes.registry}*`)],
    ),
  );
  // HeadObject is authorized by s3:GetObject; the Lambda only checks that bundles exist.
  registration.addToRolePolicy(
    statement(["s3:GetObject"], [bucket.arnForObjects(`${keyPrefixes.functions}*`)]),
  );
  // Unconditional on purpose: without s3:ListBucket, S3 answers 403 instead of 404 for a
  // missing key, and "not registered" or "bundle not uploaded" would look like a failure.
  registration.addToRolePolicy(statement(["s3:ListBucket"], [bucket.bucketArn]));
}

function statement(actions: string[], resources: string[]) {
  return new PolicyStatement({ actions, resources });
}
