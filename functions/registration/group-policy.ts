import {
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { ProtocolError } from "#core/errors.ts";
import type { GroupRecord } from "#core/protocol/index.ts";

// A group queue's resource policy. The default EndpointAccess policy lets an agent reach only
// `tasks-${aws:PrincipalTag/FerryEndpointId}`, its own queue; a group queue is named by the
// group's id, so the queue itself must let its members in. Within one account, "if either the
// identity-based policy or the resource-based policy ... allows the request and the other
// doesn't, the request is still allowed" (IAM User Guide, "Policy evaluation for requests
// within a single account"). The principal is "*" limited by aws:PrincipalAccount, not the
// account ARN: an account principal "delegates authority to the account" (IAM User Guide,
// "AWS JSON policy elements: Principal"), which would still need an identity policy to allow.

/**
 * What a member's agents do on a group queue: consume it, and pass a task on (send it back).
 * SQS takes at most 7 actions per statement and 8,192 bytes per policy ("Amazon SQS policy
 * quotas"): 100 member ids fit in one statement.
 */
export const GROUP_MEMBER_ACTIONS = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueAttributes",
  "sqs:GetQueueUrl",
  "sqs:SendMessage",
] as const;

/** The principal tag that names an agent's endpoint (as in infra/access-policies.ts). */
const ENDPOINT_ID_TAG = "aws:PrincipalTag/FerryEndpointId";

/**
 * The resource policy of a group's queue: principals of the queue's own account whose
 * FerryEndpointId tag is a member's id. Undefined for a group without members (no grant).
 */
export function groupQueuePolicy(
  queueArn: string,
  groupId: string,
  members: readonly string[],
): string | undefined {
  if (members.length === 0) return undefined;
  const account = accountOf(queueArn);
  return JSON.stringify({
    Version: "2012-10-17",
    Id: `ferry-group-${groupId}`,
    Statement: [
      {
        Sid: "FerryGroupMembers",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: [...GROUP_MEMBER_ACTIONS],
        Resource: queueArn,
        Condition: {
          StringEquals: { "aws:PrincipalAccount": account, [ENDPOINT_ID_TAG]: [...members] },
        },
      },
    ],
  });
}

/**
 * Set the group queue's policy to its current members (an empty Policy removes it). Called
 * whenever membership changes: a removed member loses access at once, not only at its next
 * heartbeat.
 */
export async function applyGroupPolicy(
  sqs: SQSClient,
  group: Pick<GroupRecord, "groupId" | "queueUrl" | "members">,
): Promise<void> {
  const queueArn = await queueArnOf(sqs, group.queueUrl);
  const policy = groupQueuePolicy(queueArn, group.groupId, group.members) ?? "";
  await sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: group.queueUrl, Attributes: { Policy: policy } }),
  );
}

async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new ProtocolError(`GetQueueAttributes ${queueUrl} returned no QueueArn`);
  return arn;
}

/** arn:<partition>:sqs:<region>:<account>:<name> -> <account>. */
function accountOf(queueArn: string): string {
  const account = queueArn.split(":")[4];
  if (!account) throw new ProtocolError(`not a queue ARN: ${queueArn}`);
  return account;
}
