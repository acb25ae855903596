import {
  Aws,
  CfnOutput,
  type CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from "aws-cdk-lib";
import type { ManagedPolicy } from "aws-cdk-lib/aws-iam";
import { type FunctionUrl, FunctionUrlAuthType } from "aws-cdk-lib/aws-lambda";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { DEFAULT_QUEUE_PREFIX, keyPrefixes, queueNames, registryKeys } from "#core/names.ts";
import { createAccessPolicies, OWN_ENDPOINT_ID } from "./access-policies.ts";
import { grantRegistration, registrationFunction } from "./registration-function.ts";

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

export { ESM_REQUIRE_BANNER, REGISTRATION_ENTRY } from "./registration-function.ts";

/** The bucket, the dead-letter queue, the registration Lambda and the IAM policies of Ferry. */
export class FerryStack extends Stack {
  readonly queuePrefix: string;

  constructor(scope: Construct, id: string, props: FerryStackProps = {}) {
    super(scope, id, props);
    const settings = resolveSettings(id, props);
    const { queuePrefix } = settings;
    this.queuePrefix = queuePrefix;

    const bucket = storeBucket(this, settings);
    const deadLetterQueue = deadLetterQueueOf(this);
    const registration = registrationFunction(this, {
      bucket,
      deadLetterQueue,
      queuePrefix,
      maxReceiveCount: settings.maxReceiveCount,
      reservedConcurrency: props.registrationReservedConcurrency,
    });
    // Clients and agents call the control plane through this URL: with AWS_IAM auth, Lambda
    // authenticates the SigV4 signature and gives the function the caller's identity, which
    // a direct Invoke never carries. Owners of endpoints, functions and sessions come from it.
    const registrationUrl = registration.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });

    const queueArn = (name: string) => this.formatArn({ service: "sqs", resource: name });
    grantRegistration(registration, bucket, queueArn, queuePrefix);

    const policies = createAccessPolicies(this, {
      bucket,
      deadLetterQueue,
      registration,
      tasksQueueArn: queueArn(queueNames.tasks(queuePrefix, "*")),
      // IAM substitutes the caller's tag: an endpoint reaches only its own queue.
      ownTasksQueueArn: queueArn(queueNames.tasks(queuePrefix, OWN_ENDPOINT_ID)),
      resultsQueueArn: queueArn(queueNames.results(queuePrefix, "*")),
    });
    const resources = { bucket, deadLetterQueue, registration, registrationUrl, ...policies };
    pinLogicalIds(resources);
    addOutputs(this, resources, queuePrefix);
  }
}

/** The stack's settings with their defaults, validated. */
interface StackSettings {
  queuePrefix: string;
  maxReceiveCount: number;
  expiryDays: number;
  parkedDays: number;
}

function resolveSettings(id: string, props: FerryStackProps): StackSettings {
  const queuePrefix = props.queuePrefix ?? defaultQueuePrefix(id);
  const maxReceiveCount = props.maxReceiveCount ?? 5;
  const expiryDays = props.temporaryObjectExpiryDays ?? TASK_RETENTION_DAYS + 1;
  const parkedDays = props.parkedResultExpiryDays ?? 30;
  validateProps(queuePrefix, maxReceiveCount, expiryDays, parkedDays);
  return { queuePrefix, maxReceiveCount, expiryDays, parkedDays };
}

function storeBucket(scope: Construct, settings: StackSettings): Bucket {
  return new Bucket(scope, "Store", {
    encryption: BucketEncryption.S3_MANAGED,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    lifecycleRules: [
      {
        id: "expire-temporary-objects",
        prefix: keyPrefixes.temporary,
        expiration: Duration.days(settings.expiryDays),
      },
      {
        id: "expire-parked-results",
        prefix: registryKeys.parkedRoot,
        expiration: Duration.days(settings.parkedDays),
      },
      // Applies to the whole bucket: an interrupted upload anywhere costs storage until aborted.
      { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
    // The store holds campaign results; deleting the stack must not delete them.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

function deadLetterQueueOf(scope: Construct): Queue {
  // No fixed name: CloudFormation names it after the stack. A fixed name collides with a
  // second stack in the account and region, and with this retained queue on a redeploy.
  return new Queue(scope, "DeadLetter", {
    retentionPeriod: Duration.days(14),
    encryption: QueueEncryption.SQS_MANAGED,
    // Messages there are the evidence of failures; keep them past a stack deletion.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** The resources local/ and the outputs name. */
interface StackResources {
  bucket: Bucket;
  deadLetterQueue: Queue;
  registration: NodejsFunction;
  registrationUrl: FunctionUrl;
  endpointPolicy: ManagedPolicy;
  multiEndpointPolicy: ManagedPolicy;
  clientPolicy: ManagedPolicy;
}

function pinLogicalIds(r: StackResources): void {
  setLogicalId(r.bucket.node.defaultChild, FERRY_LOGICAL_IDS.bucket);
  setLogicalId(r.deadLetterQueue.node.defaultChild, FERRY_LOGICAL_IDS.deadLetterQueue);
  setLogicalId(r.registration.node.defaultChild, FERRY_LOGICAL_IDS.registrationFunction);
  setLogicalId(r.registrationUrl.node.defaultChild, FERRY_LOGICAL_IDS.registrationFunctionUrl);
  setLogicalId(r.endpointPolicy.node.defaultChild, FERRY_LOGICAL_IDS.endpointPolicy);
  setLogicalId(r.multiEndpointPolicy.node.defaultChild, FERRY_LOGICAL_IDS.multiEndpointPolicy);
  setLogicalId(r.clientPolicy.node.defaultChild, FERRY_LOGICAL_IDS.clientPolicy);
}

function addOutputs(scope: Construct, r: StackResources, queuePrefix: string): void {
  const outputs: Record<string, string> = {
    BucketName: r.bucket.bucketName,
    DeadLetterQueueUrl: r.deadLetterQueue.queueUrl,
    DeadLetterQueueArn: r.deadLetterQueue.queueArn,
    RegistrationFunctionName: r.registration.functionName,
    RegistrationFunctionUrl: r.registrationUrl.url,
    QueuePrefix: queuePrefix,
    Region: Aws.REGION,
    EndpointPolicyArn: r.endpointPolicy.managedPolicyArn,
    MultiEndpointPolicyArn: r.multiEndpointPolicy.managedPolicyArn,
    ClientPolicyArn: r.clientPolicy.managedPolicyArn,
  };
  for (const [key, value] of Object.entries(outputs)) new CfnOutput(scope, key, { value });
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
