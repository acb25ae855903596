import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Aws,
  CfnOutput,
  type CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Architecture, FunctionUrlAuthType, Runtime } from "aws-cdk-lib/aws-lambda";
import { LogLevel, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { DEFAULT_QUEUE_PREFIX, keyPrefixes, queueNames, registryKeys } from "#core/names.ts";
import { createAccessPolicies, OWN_ENDPOINT_ID } from "./access-policies.ts";

export interface FerryStackProps extends StackProps {
  /**
   * Prefix of every queue Ferry creates at run time; IAM policies are scoped to it, so two
   * deployments in one account and region get different prefixes (the default follows the
   * stack name). Letters, digits, '-' and '_', at most 36 characters (SQS names are at most 80,
   * and a results queue adds 44).
   * @default "ferry-" for the stack "Ferry", else the stack name in lower case and "-"
   */
  queuePrefix?: string;
  /** Receives of one task message before SQS moves it to the dead-letter queue. @default 5 */
  maxReceiveCount?: number;
  /**
   * Days after which the bucket lifecycle removes objects under `tmp/` (task arguments and
   * results by reference). At least 15: a task message may wait 14 days in its queue, and its
   * arguments must still be there when it runs.
   * @default 15
   */
  temporaryObjectExpiryDays?: number;
  /**
   * Days after which results parked for a client (their session's queue was gone) expire.
   * @default 30
   */
  parkedResultExpiryDays?: number;
  /**
   * Reserved concurrency of the registration Lambda: a share of the account's concurrency
   * that heartbeats and control calls always have, and a cap on it. Unset: unreserved (new
   * accounts may have a concurrency limit as low as 10, where reserving fails the deploy).
   * @default undefined
   */
  registrationReservedConcurrency?: number;
}

/** A task message may wait this long in its queue (the registration function's setting). */
export const TASK_RETENTION_DAYS = 14;

/** Stable logical ids, so that local/ can find the resources in the synthesized template. */
export const FERRY_LOGICAL_IDS = {
  bucket: "StoreBucket",
  deadLetterQueue: "DeadLetterQueue",
  registrationFunction: "RegistrationFunction",
  registrationFunctionUrl: "RegistrationFunctionUrl",
  endpointPolicy: "EndpointPolicy",
  multiEndpointPolicy: "MultiEndpointPolicy",
  clientPolicy: "ClientPolicy",
} as const;

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const REGISTRATION_ENTRY = join(REPO_ROOT, "functions", "registration", "handler.ts");

/** The bucket, the dead-letter queue, the registration Lambda and the IAM policies of Ferry. */
export class FerryStack extends Stack {
  readonly queuePrefix: string;

  constructor(scope: Construct, id: string, props: FerryStackProps = {}) {
    super(scope, id, props);
    const queuePrefix = props.queuePrefix ?? defaultQueuePrefix(id);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const expiryDays = props.temporaryObjectExpiryDays ?? TASK_RETENTION_DAYS + 1;
    const parkedDays = props.parkedResultExpiryDays ?? 30;
    validateProps(queuePrefix, maxReceiveCount, expiryDays, parkedDays);
    this.queuePrefix = queuePrefix;

    const bucket = new Bucket(this, "Store", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [
        {
          id: "expire-temporary-objects",
          prefix: keyPrefixes.temporary,
          expiration: Duration.days(expiryDays),
        },
        {
          id: "expire-parked-results",
          prefix: registryKeys.parkedRoot,
          expiration: Duration.days(parkedDays),
        },
        // Applies to the whole bucket: an interrupted upload anywhere costs storage until aborted.
        { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // The store holds campaign results; deleting the stack must not delete them.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // No fixed name: CloudFormation names it after the stack. A fixed name collides with a
    // second stack in the account and region, and with this retained queue on a redeploy.
    const deadLetterQueue = new Queue(this, "DeadLetter", {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      // Messages there are the evidence of failures; keep them past a stack deletion.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const logGroup = new LogGroup(this, "RegistrationLogs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const registration = new NodejsFunction(this, "Registration", {
      entry: REGISTRATION_ENTRY,
      handler: "handler",
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      ...(props.registrationReservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.registrationReservedConcurrency }),
      logGroup,
      description: "Ferry control plane: endpoints, functions, sessions, heartbeats",
      environment: {
        FERRY_BUCKET: bucket.bucketName,
        FERRY_DLQ_ARN: deadLetterQueue.queueArn,
        FERRY_QUEUE_PREFIX: queuePrefix,
        FERRY_MAX_RECEIVE_COUNT: String(maxReceiveCount),
        NODE_OPTIONS: "--enable-source-maps",
      },
      bundling: {
        format: OutputFormat.ESM,
        forceDockerBundling: false,
        // Pin the SDK we test with instead of the runtime's, so local runs match the cloud.
        bundleAwsSDK: true,
        externalModules: [],
        mainFields: ["module", "main"],
        // CommonJS dependencies inside an ESM bundle still call require().
        banner:
          "import { createRequire as __ferryCreateRequire } from 'node:module'; const require = __ferryCreateRequire(import.meta.url);",
        minify: true,
        sourceMap: true,
        logLevel: LogLevel.ERROR,
      },
    });

    // Clients and agents call the control plane through this URL: with AWS_IAM auth, Lambda
    // authenticates the SigV4 signature and gives the function the caller's identity, which
    // a direct Invoke never carries. Owners of endpoints, functions and sessions come from it.
    const registrationUrl = registration.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });

    const queueArn = (name: string) => this.formatArn({ service: "sqs", resource: name });
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

    const { endpointPolicy, multiEndpointPolicy, clientPolicy } = createAccessPolicies(this, {
      bucket,
      deadLetterQueue,
      registration,
      tasksQueueArn: queueArn(queueNames.tasks(queuePrefix, "*")),
      // IAM substitutes the caller's tag: an endpoint reaches only its own queue.
      ownTasksQueueArn: queueArn(queueNames.tasks(queuePrefix, OWN_ENDPOINT_ID)),
      resultsQueueArn: queueArn(queueNames.results(queuePrefix, "*")),
    });

    setLogicalId(bucket.node.defaultChild, FERRY_LOGICAL_IDS.bucket);
    setLogicalId(deadLetterQueue.node.defaultChild, FERRY_LOGICAL_IDS.deadLetterQueue);
    setLogicalId(registration.node.defaultChild, FERRY_LOGICAL_IDS.registrationFunction);
    setLogicalId(registrationUrl.node.defaultChild, FERRY_LOGICAL_IDS.registrationFunctionUrl);
    setLogicalId(endpointPolicy.node.defaultChild, FERRY_LOGICAL_IDS.endpointPolicy);
    setLogicalId(multiEndpointPolicy.node.defaultChild, FERRY_LOGICAL_IDS.multiEndpointPolicy);
    setLogicalId(clientPolicy.node.defaultChild, FERRY_LOGICAL_IDS.clientPolicy);

    const outputs: Record<string, string> = {
      BucketName: bucket.bucketName,
      DeadLetterQueueUrl: deadLetterQueue.queueUrl,
      DeadLetterQueueArn: deadLetterQueue.queueArn,
      RegistrationFunctionName: registration.functionName,
      RegistrationFunctionUrl: registrationUrl.url,
      QueuePrefix: queuePrefix,
      Region: Aws.REGION,
      EndpointPolicyArn: endpointPolicy.managedPolicyArn,
      MultiEndpointPolicyArn: multiEndpointPolicy.managedPolicyArn,
      ClientPolicyArn: clientPolicy.managedPolicyArn,
    };
    for (const [key, value] of Object.entries(outputs)) new CfnOutput(this, key, { value });
  }
}

function statement(actions: string[], resources: string[]) {
  return new PolicyStatement({ actions, resources });
}

function setLogicalId(child: unknown, id: string): void {
  (child as CfnResource).overrideLogicalId(id);
}

const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,36}$/;

/** "ferry-" for the default stack; another stack's own name, so two stacks never share queues. */
export function defaultQueuePrefix(stackName: string): string {
  if (stackName === "Ferry") return DEFAULT_QUEUE_PREFIX;
  return `${stackName
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "-")
    .slice(0, 35)}-`;
}

function validateProps(
  queuePrefix: string,
  maxReceiveCount: number,
  expiryDays: number,
  parkedDays: number,
): void {
  if (!PREFIX_PATTERN.test(queuePrefix)) {
    throw new Error(
      `FerryStack: queuePrefix "${queuePrefix}" must be 1-36 letters, digits, '-' or '_'`,
    );
  }
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1_000) {
    throw new Error(`FerryStack: maxReceiveCount must be an integer in 1..1000 (SQS's range)`);
  }
  if (!Number.isInteger(expiryDays) || expiryDays <= TASK_RETENTION_DAYS) {
    throw new Error(
      `FerryStack: temporaryObjectExpiryDays must be an integer over ${TASK_RETENTION_DAYS}: a task may wait ${TASK_RETENTION_DAYS} days in its queue, and its arguments under tmp/ must outlive it`,
    );
  }
  if (!Number.isInteger(parkedDays) || parkedDays < 1) {
    throw new Error("FerryStack: parkedResultExpiryDays must be a positive integer");
  }
}
