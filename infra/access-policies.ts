import { ManagedPolicy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { keyPrefixes } from "#core/names.ts";

/** The IAM policy variable for the caller's FerryEndpointId tag (role tag or session tag). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
export const OWN_ENDPOINT_ID = "${aws:PrincipalTag/FerryEndpointId}";

/** The IAM policy variable for the caller's user id (what sessions and objects are owned by). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
export const CALLER_USER_ID = "${aws:userid}";

export interface AccessPolicyTargets {
  bucket: IBucket;
  deadLetterQueue: IQueue;
  registration: IFunction;
  /** ARN pattern of every endpoint's task queue (`<prefix>tasks-*`). */
  tasksQueueArn: string;
  /** ARN of the caller's own task queue: `<prefix>tasks-${aws:PrincipalTag/FerryEndpointId}`. */
  ownTasksQueueArn: string;
  /** ARN pattern of every session's result queue (`<prefix>results-*`). */
  resultsQueueArn: string;
}

/** The policies createAccessPolicies makes. */
export interface AccessPolicies {
  endpointPolicy: ManagedPolicy;
  multiEndpointPolicy: ManagedPolicy;
  clientPolicy: ManagedPolicy;
}

/**
 * The managed policies attached to the identities of endpoint agents and of clients. Both are
 * scoped to Ferry's queue prefix and key prefixes; neither can delete queues or the bucket
 * (the registration Lambda owns queue lifetimes).
 */
export function createAccessPolicies(
  scope: Construct,
  targets: AccessPolicyTargets,
): AccessPolicies {
  // The default: for identities tagged FerryEndpointId=<uuid> (an IAM user's or role's tag,
  // or a session tag from IAM Roles Anywhere or AssumeRole), which consume only their own
  // endpoint's queue. Store objects stay shared: endpoints read any client's arguments.
  const endpointPolicy = new ManagedPolicy(scope, "EndpointAccess", {
    description:
      "Ferry endpoint agent limited to its own task queue, named by the principal tag FerryEndpointId",
    statements: endpointStatements(targets, targets.ownTasksQueueArn),
  });

  // For one identity that serves several endpoints (a site's shared service role): every
  // endpoint's task queue. Weaker: a compromised agent can drain other endpoints' tasks.
  // Group queues are task queues (`tasks-<groupId>`), so this policy also consumes groups; a
  // group task the member may not run goes back to the group's queue for another member
  // (endpoint-agent/pass-on.ts). The own-queue policy above reaches group queues through
  // their resource policies, which the registration Lambda keeps to the members' tags
  // (functions/registration/group-policy.ts).
  const multiEndpointPolicy = new ManagedPolicy(scope, "MultiEndpointAccess", {
    description: "Ferry endpoint agent for any endpoint: consume every task queue",
    statements: [
      ...endpointStatements(targets, targets.tasksQueueArn),
      new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [targets.tasksQueueArn] }),
    ],
  });

  const clientPolicy = new ManagedPolicy(scope, "ClientAccess", {
    description: "Ferry client: submit tasks, receive results, use the store, upload functions",
    statements: clientStatements(targets),
  });

  return { endpointPolicy, multiEndpointPolicy, clientPolicy };
}

function dataObjects({ bucket }: AccessPolicyTargets): string[] {
  return [
    bucket.arnForObjects(`${keyPrefixes.store}*`),
    bucket.arnForObjects(`${keyPrefixes.temporary}*`),
  ];
}

function functionObjects({ bucket }: AccessPolicyTargets): string[] {
  return [bucket.arnForObjects(`${keyPrefixes.functions}*`)];
}

/**
 * The control plane through its URL only. Since October 2025 a URL call needs both actions;
 * InvokeFunction is granted only as part of one (lambda:InvokedViaFunctionUrl), because a
 * direct Invoke carries no caller identity: it stays with the account's operators.
 */
function invokeStatements(targets: AccessPolicyTargets): PolicyStatement[] {
  return [
    new PolicyStatement({
      actions: ["lambda:InvokeFunctionUrl"],
      resources: [targets.registration.functionArn],
      conditions: { StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" } },
    }),
    new PolicyStatement({
      actions: ["lambda:InvokeFunction"],
      resources: [targets.registration.functionArn],
      conditions: { Bool: { "lambda:InvokedViaFunctionUrl": "true" } },
    }),
  ];
}

/** An endpoint agent's statements, consuming the task queue(s) `queueArn` names. */
function endpointStatements(targets: AccessPolicyTargets, queueArn: string): PolicyStatement[] {
  return [
    new PolicyStatement({
      actions: [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        // The agent finds its queue by name at start-up.
        "sqs:GetQueueUrl",
      ],
      resources: [queueArn],
    }),
    // Malformed task messages are moved to the DLQ by the agent at once.
    new PolicyStatement({
      actions: ["sqs:SendMessage"],
      resources: [targets.resultsQueueArn, targets.deadLetterQueue.queueArn],
    }),

    new PolicyStatement({
      // Multipart uploads are authorized by PutObject; aborting one needs its own action.
      // DeleteObject: an agent evicts temporary arguments after their last reader (the task).
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      resources: dataObjects(targets),
    }),
    new PolicyStatement({ actions: ["s3:GetObject"], resources: functionObjects(targets) }),
    ...invokeStatements(targets),
  ];
}

function clientStatements(targets: AccessPolicyTargets): PolicyStatement[] {
  return [
    // GetQueueAttributes: `ferry status` shows each endpoint's queue depth.
    new PolicyStatement({
      actions: ["sqs:SendMessage", "sqs:GetQueueAttributes"],
      resources: [targets.tasksQueueArn],
    }),
    // Only its own sessions' queues: the registration function tags each result queue with
    // its opener's user id (ABAC), so another principal's results are out of reach.
    new PolicyStatement({
      actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
      resources: [targets.resultsQueueArn],
      conditions: { StringEquals: { "aws:ResourceTag/ferry:owner": CALLER_USER_ID } },
    }),
    // Only its own objects: a client's arguments and results live under its user id.
    new PolicyStatement({
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      resources: [keyPrefixes.store, keyPrefixes.temporary].map((p) =>
        targets.bucket.arnForObjects(`${p}${CALLER_USER_ID}/*`),
      ),
    }),
    new PolicyStatement({
      actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
      resources: functionObjects(targets),
    }),
    ...invokeStatements(targets),
  ];
}
