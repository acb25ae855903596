// The group queue's resource policy: exactly the members' principals, in the queue's account.
import { describe, expect, it } from "vitest";
import { GROUP_MEMBER_ACTIONS, groupQueuePolicy } from "#functions/registration/group-policy.ts";

const QUEUE_ARN =
  "arn:aws:sqs:eu-west-1:123456789012:ferry-tasks-0192aaaa-0000-7000-8000-000000000001";
const A = "0192aaaa-0000-7000-8000-00000000000a";
const B = "0192aaaa-0000-7000-8000-00000000000b";

interface Statement {
  Effect: string;
  Principal: unknown;
  Action: string[];
  Resource: string;
  Condition: { StringEquals: Record<string, unknown> };
}

const statementOf = (policy: string | undefined): Statement => {
  const statements = JSON.parse(policy ?? "{}").Statement as Statement[];
  expect(statements).toHaveLength(1);
  return statements[0] as Statement;
};

describe("groupQueuePolicy", () => {
  it("allows the members' tagged principals of the queue's account on that queue only", () => {
    const statement = statementOf(groupQueuePolicy(QUEUE_ARN, "g", [A, B]));
    expect(statement.Effect).toBe("Allow");
    expect(statement.Principal).toEqual({ AWS: "*" });
    expect(statement.Resource).toBe(QUEUE_ARN);
    expect(statement.Condition.StringEquals).toEqual({
      "aws:PrincipalAccount": "123456789012",
      "aws:PrincipalTag/FerryEndpointId": [A, B],
    });
  });

  it("grants consuming and passing on, and nothing that changes or deletes the queue", () => {
    const { Action } = statementOf(groupQueuePolicy(QUEUE_ARN, "g", [A]));
    expect(Action).toEqual([...GROUP_MEMBER_ACTIONS]);
    expect(Action.length).toBeLessThanOrEqual(7); // SQS's most actions per statement
    expect(Action).toContain("sqs:SendMessage");
    expect(Action).toContain("sqs:ChangeMessageVisibility");
    expect(
      Action.some((a) => /Delete(Queue)?$|SetQueue|\*/.test(a) && a !== "sqs:DeleteMessage"),
    ).toBe(false);
  });

  it("leaves a removed member out, and grants nobody when no member is left", () => {
    const before = statementOf(groupQueuePolicy(QUEUE_ARN, "g", [A, B]));
    const after = statementOf(groupQueuePolicy(QUEUE_ARN, "g", [B]));
    expect(before.Condition.StringEquals["aws:PrincipalTag/FerryEndpointId"]).toContain(A);
    expect(after.Condition.StringEquals["aws:PrincipalTag/FerryEndpointId"]).toEqual([B]);
    expect(groupQueuePolicy(QUEUE_ARN, "g", [])).toBeUndefined();
  });

  it("stays under SQS's policy size limit with the most members a group may have", async () => {
    const { MAX_GROUP_MEMBERS } = await import("#core/protocol/index.ts");
    const members = Array.from(
      { length: MAX_GROUP_MEMBERS },
      (_, i) => `0192aaaa-0000-7000-8000-${String(i).padStart(12, "0")}`,
    );
    expect(Buffer.byteLength(groupQueuePolicy(QUEUE_ARN, "g", members) ?? "")).toBeLessThan(8_192);
  });
});
