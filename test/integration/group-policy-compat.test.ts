// A group queue's resource policy on the compat pair (local-aws-sqs + s3rver), through the real
// registration handler: local-aws-sqs checks a Policy's shape as SQS does (version, statements,
// actions), so a policy AWS would refuse fails here. Neither emulator enforces policies.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import { type LocalDeployment, startLocal } from "#local/index.ts";

describe("group queue policy on the compat backend", () => {
  let home: string;
  let local: LocalDeployment;
  let conn: Connection;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "ferry-group-policy-"));
    local = await startLocal({ home, backend: "compat" });
    conn = await connect(loadEnv({ FERRY_HOME: home, FERRY_DEPLOYMENT: local.deploymentPath }));
  }, 120_000);
  afterAll(async () => {
    conn?.close();
    await local?.stop();
    await rm(home, { recursive: true, force: true });
  });

  const policyOf = async (queueUrl: string) => {
    const { Attributes } = await conn.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["Policy", "QueueArn"] }),
    );
    return { arn: Attributes?.QueueArn, policy: Attributes?.Policy };
  };

  it("is accepted, stored and follows the members through add, remove and deregister", async () => {
    const ids: string[] = [];
    for (const name of ["gp-theta", "gp-polaris"]) {
      ids.push((await conn.control.call("registerEndpoint", { name })).endpoint.endpointId);
    }
    const [a, b] = ids as [string, string];
    const { group } = await conn.control.call("createGroup", { name: "gp-qc", members: [a] });
    const created = await policyOf(group.queueUrl);
    const statement = JSON.parse(created.policy ?? "{}").Statement?.[0];
    expect(statement?.Resource).toBe(created.arn);
    expect(statement?.Condition.StringEquals["aws:PrincipalTag/FerryEndpointId"]).toEqual([a]);
    await conn.control.call("addGroupMember", { name: "gp-qc", endpointId: b });
    const added = JSON.parse((await policyOf(group.queueUrl)).policy ?? "{}");
    expect(added.Statement[0].Condition.StringEquals["aws:PrincipalTag/FerryEndpointId"]).toEqual([
      a,
      b,
    ]);
    await conn.control.call("deregisterEndpoint", { endpointId: a });
    const left = JSON.parse((await policyOf(group.queueUrl)).policy ?? "{}");
    expect(left.Statement[0].Condition.StringEquals["aws:PrincipalTag/FerryEndpointId"]).toEqual([
      b,
    ]);
    expect((await conn.control.call("describeGroup", { name: "gp-qc" })).group.members).toEqual([
      b,
    ]);
  });
});
