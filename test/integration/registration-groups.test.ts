// Endpoint groups through the real registration service on the emulator: a group's queue and
// records, owner checks, membership answers on heartbeats.
import { GetQueueAttributesCommand, ListQueueTagsCommand } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import { NotFoundError, RefusedError } from "#core/errors.ts";
import { queueNames } from "#core/names.ts";
import {
  createRegistrationService,
  type RegistrationService,
} from "#functions/registration/index.ts";

const principal = (name: string) => ({
  kind: "principal" as const,
  arn: `arn:aws:iam::000000000000:user/${name}`,
  userId: name,
});
const alice = principal("alice");
const bob = principal("bob");

let server: FauxqsServer;
let aws: AwsClients;
let service: RegistrationService;
let prefix: string;
let deployments = 0;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  aws = createAwsClients({
    region: "us-east-1",
    endpoints: { sqs: server.address, s3: server.address },
    credentials: EMULATOR_CREDENTIALS,
  });
});

afterAll(async () => {
  await server?.stop();
});

beforeEach(() => {
  deployments++;
  const bucket = `ferry-groups-test-${deployments}`;
  prefix = `grptest${deployments}-`;
  server.createBucket(bucket);
  const dlqArn = server.createQueue(queueNames.deadLetter(prefix)).queueArn;
  service = createRegistrationService({
    sqs: aws.sqs,
    s3: aws.s3,
    bucket,
    dlqArn,
    queuePrefix: prefix,
    maxReceiveCount: 4,
  });
});

/** The groups a heartbeat's answer names (absent: none). */
const beat = async (endpointId: string) => ({
  groups: (await beatOf(endpointId)).groups ?? [],
});
const beatOf = (endpointId: string) =>
  service.heartbeat({
    heartbeat: {
      endpointId,
      agentId: "host-1",
      slots: { total: 1, busy: 0 },
      runningTaskIds: [],
      versions: { ferry: "0", node: "24" },
      host: "h",
      pid: 1,
    },
  });

/** Register endpoints as `who`: their ids, in order. */
async function endpointsOf<N extends string[]>(
  who: typeof alice,
  ...names: N
): Promise<{ [K in keyof N]: string }> {
  const ids: string[] = [];
  for (const name of names) {
    ids.push((await service.registerEndpoint({ name }, who)).endpoint.endpointId);
  }
  return ids as { [K in keyof N]: string };
}

describe("groups", () => {
  it("creates the group's task queue with the task queues' redrive, and finds it by name and id", async () => {
    const [a, b] = await endpointsOf(alice, "theta", "polaris");
    const { group } = await service.createGroup({ name: "qc", members: [a, b] }, alice);
    expect(group.members).toEqual([a, b]);
    expect(group.owner).toBe(alice.arn);
    expect(group.queueUrl).toContain(queueNames.tasks(prefix, group.groupId));
    const attributes = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: group.queueUrl, AttributeNames: ["All"] }),
    );
    expect(JSON.parse(attributes.Attributes?.RedrivePolicy ?? "{}").maxReceiveCount).toBe(4);
    const tags = await aws.sqs.send(new ListQueueTagsCommand({ QueueUrl: group.queueUrl }));
    expect(tags.Tags?.["ferry:group"]).toBe("qc");
    expect((await service.describeGroup({ groupId: group.groupId })).group.name).toBe("qc");
    expect((await service.listGroups({})).groups.map((g) => g.name)).toEqual(["qc"]);
  });

  it("answers each member's heartbeat with its groups, and stops once it is removed", async () => {
    const [a, b] = await endpointsOf(alice, "theta", "polaris");
    const { group } = await service.createGroup({ name: "qc", members: [a] }, alice);
    expect((await beat(b)).groups).toEqual([]);
    await service.addGroupMember({ name: "qc", endpointId: b }, alice);
    const served = (await beat(b)).groups;
    expect(served).toEqual([
      { groupId: group.groupId, name: "qc", queueUrl: group.queueUrl, members: 2 },
    ]);
    expect((await beat(a)).groups?.[0]?.members).toBe(2);
    const after = await service.removeGroupMember({ name: "qc", endpointId: a }, alice);
    expect(after.group.members).toEqual([b]);
    expect((await beat(a)).groups).toEqual([]);
    expect((await beat(b)).groups?.[0]?.members).toBe(1);
  });

  it("lets only the owner change a group, and only an endpoint's owner put it in one", async () => {
    const [a] = await endpointsOf(alice, "theta");
    const [c] = await endpointsOf(bob, "cloud");
    await service.createGroup({ name: "qc", members: [a] }, alice);
    await expect(service.addGroupMember({ name: "qc", endpointId: c }, bob)).rejects.toThrow(
      "group qc belongs to arn:aws:iam::000000000000:user/alice; you are arn:aws:iam::000000000000:user/bob: only its owner may add members",
    );
    await expect(service.removeGroupMember({ name: "qc", endpointId: a }, bob)).rejects.toThrow(
      RefusedError,
    );
    await expect(service.deleteGroup({ name: "qc" }, bob)).rejects.toThrow(RefusedError);
    // Alice's endpoint would consume Bob's tasks: Bob may not enlist it.
    await expect(service.createGroup({ name: "bobs", members: [a] }, bob)).rejects.toThrow(
      "only its owner may put it in a group",
    );
    // An endpoint's owner may take it out of someone else's group.
    await service.createGroup({ name: "shared", members: [c] }, bob);
    expect(
      (await service.removeGroupMember({ name: "shared", endpointId: c }, bob)).group.members,
    ).toEqual([]);
    expect((await service.describeGroup({ name: "qc" })).group.members).toEqual([a]);
  });

  it("refuses unknown members and groups with errors that say what to do", async () => {
    await expect(
      service.createGroup({ name: "qc", members: ["01920000-0000-7000-8000-00000000dead"] }, alice),
    ).rejects.toThrow(NotFoundError);
    expect((await service.listGroups({})).groups).toEqual([]);
    const unknown = await service.describeGroup({ name: "nope" }).catch((e: NotFoundError) => e);
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect((unknown as NotFoundError).toOneLine()).toContain(
      "no group named nope: see `ferry group list`, or create it with",
    );
  });

  it("deletes a group: its queue and every member's membership", async () => {
    const [a] = await endpointsOf(alice, "theta");
    const { group } = await service.createGroup({ name: "qc", members: [a] }, alice);
    await service.deleteGroup({ name: "qc" }, alice);
    expect((await beat(a)).groups).toEqual([]);
    await expect(service.describeGroup({ groupId: group.groupId })).rejects.toThrow(NotFoundError);
    await expect(
      aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: group.queueUrl })),
    ).rejects.toThrow();
  });
});

describe("group queue policy", () => {
  /** The member ids the group queue's resource policy lets in ([] when it has none). */
  const policyMembers = async (queueUrl: string): Promise<string[]> => {
    const { Attributes } = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["Policy"] }),
    );
    if (!Attributes?.Policy) return [];
    const statement = JSON.parse(Attributes.Policy).Statement[0];
    return statement.Condition.StringEquals["aws:PrincipalTag/FerryEndpointId"];
  };

  it("lets exactly the members in, through create, add and remove", async () => {
    const [a, b] = await endpointsOf(alice, "theta", "polaris");
    const { group } = await service.createGroup({ name: "qc", members: [a] }, alice);
    expect(await policyMembers(group.queueUrl)).toEqual([a]);
    await service.addGroupMember({ name: "qc", endpointId: b }, alice);
    expect(await policyMembers(group.queueUrl)).toEqual([a, b]);
    await service.removeGroupMember({ name: "qc", endpointId: a }, alice);
    expect(await policyMembers(group.queueUrl)).toEqual([b]);
    await service.removeGroupMember({ name: "qc", endpointId: b }, alice);
    expect(await policyMembers(group.queueUrl)).toEqual([]);
  });

  it("takes a deregistered endpoint out of its groups: members, policy, heartbeat answers", async () => {
    const [a, b] = await endpointsOf(alice, "theta", "polaris");
    const { group } = await service.createGroup({ name: "qc", members: [a, b] }, alice);
    await service.createGroup({ name: "dft", members: [a] }, alice);
    await service.deregisterEndpoint({ endpointId: a }, alice);
    expect((await service.describeGroup({ name: "qc" })).group.members).toEqual([b]);
    expect((await service.describeGroup({ name: "dft" })).group.members).toEqual([]);
    expect(await policyMembers(group.queueUrl)).toEqual([b]);
    expect((await beat(b)).groups?.[0]?.members).toBe(1);
    // Registered again under the same id, it serves no group it was in before.
    await service.registerEndpoint({ name: "theta", endpointId: a }, alice);
    expect((await beat(a)).groups).toEqual([]);
  });
});
