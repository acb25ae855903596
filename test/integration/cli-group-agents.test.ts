// What the CLI reads of a group's agents, through the real registration service on the
// emulator: `campaign run --qc-endpoint group:<name>` sizes its workers from every member's live
// agents, and `run`/`submit` warn when no member has a live agent.
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { CampaignOptionsInput } from "#campaigns/ipopt/index.ts";
import { withQcWorkers } from "#cli/commands/campaign-workers.ts";
import { warnIfNoAgent } from "#cli/resolve.ts";
import { type AwsClients, createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import type { ControlClient } from "#core/control/index.ts";
import { ConfigError } from "#core/errors.ts";
import { queueNames } from "#core/names.ts";
import {
  createRegistrationService,
  type RegistrationService,
} from "#functions/registration/index.ts";
import { serviceControl } from "../helpers/seed-endpoints.ts";

let server: FauxqsServer;
let aws: AwsClients;
let service: RegistrationService;
let control: Pick<ControlClient, "call">;
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
  const bucket = `ferry-cli-groups-${deployments}`;
  const prefix = `cligrp${deployments}-`;
  server.createBucket(bucket);
  service = createRegistrationService({
    sqs: aws.sqs,
    s3: aws.s3,
    bucket,
    dlqArn: server.createQueue(queueNames.deadLetter(prefix)).queueArn,
    queuePrefix: prefix,
    maxReceiveCount: 4,
  });
  control = serviceControl(service);
});

const register = async (name: string) =>
  (await service.registerEndpoint({ name })).endpoint.endpointId;

const beat = (endpointId: string, agentId: string, total: number) =>
  service.heartbeat({
    heartbeat: {
      endpointId,
      agentId,
      slots: { total, busy: 0 },
      runningTaskIds: [],
      versions: { ferry: "0", node: "24" },
      host: "h",
      pid: 1,
    },
  });

/** The campaign's options as its command line gives them, without --num-qc-workers. */
const campaign = (qcEndpoint: string, more: { nodesPerTask?: number } = {}) =>
  withQcWorkers(control, {
    qcEndpoint,
    mlEndpoint: "ml",
    ...more,
  } as CampaignOptionsInput);

describe("--num-qc-workers from a group's members", () => {
  it("sums the slots of every member's live agents, divided by --nodes-per-task", async () => {
    const [a, b] = [await register("theta"), await register("polaris")];
    await service.createGroup({ name: "qc", members: [a, b] });
    await beat(a, "theta-1", 4);
    await beat(b, "polaris-1", 8);
    await beat(b, "polaris-2", 8);
    expect((await campaign("group:qc")).numQcWorkers).toBe(20);
    expect((await campaign("group:qc", { nodesPerTask: 4 })).numQcWorkers).toBe(5);
    await expect(campaign("group:qc", { nodesPerTask: 9 })).rejects.toThrow(
      "--nodes-per-task 9: group qc's agents run at most 8 tasks at once",
    );
    // A single endpoint still counts its own agents only.
    expect((await campaign("theta")).numQcWorkers).toBe(4);
  });

  it("refuses a group whose members have no live agent, naming what to start", async () => {
    const a = await register("theta");
    await service.createGroup({ name: "qc", members: [a] });
    const error = await campaign("group:qc").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).toOneLine()).toContain(
      "no agent of group qc reports its slots: start an agent of a member (ferry endpoint start theta; members: theta) or give --num-qc-workers",
    );
    await expect(campaign("group:qcc")).rejects.toThrow("no group named qcc");
  });
});

describe("warnIfNoAgent for a group", () => {
  let stderr: string[];
  beforeEach(() => {
    stderr = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("warns while no member has a live agent, and not once one has", async () => {
    const [a, b] = [await register("theta"), await register("polaris")];
    const { group } = await service.createGroup({ name: "qc", members: [a, b] });
    await warnIfNoAgent(control, [group.groupId]);
    expect(stderr).toEqual([
      "ferry: warning: group qc has no member with a live agent (members: theta, polaris): its tasks wait in its queue until one starts (ferry endpoint start theta)\n",
    ]);
    await beat(b, "polaris-1", 2);
    stderr.length = 0;
    await warnIfNoAgent(control, [group.groupId]);
    expect(stderr).toEqual([]);
  });

  it("warns of a group without members", async () => {
    const { group } = await service.createGroup({ name: "empty", members: [] });
    await warnIfNoAgent(control, [group.groupId]);
    expect(stderr.join("")).toContain(
      "group empty has no members: its tasks wait in its queue until one joins (ferry group add empty <endpoint>)",
    );
  });
});
