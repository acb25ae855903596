import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
} from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import { NotFoundError } from "#core/errors.ts";
import { bundleKey, cancellationCursor, queueNames, registryKeys } from "#core/names.ts";
import {
  type ControlAction,
  type ControlData,
  type ControlErrorBody,
  ControlResponse,
  ControlResponseData,
  shellFunctionSha256,
} from "#core/protocol/index.ts";
import {
  createHandler,
  createRegistrationService,
  type RegistrationDeps,
  type RegistrationHandler,
  type RegistrationService,
} from "#functions/registration/index.ts";

const START = 1_800_000_000_000;
const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);
const TRAIN_SHA = shellFunctionSha256(["python3", "train.py"]);
const UNKNOWN_ID = "01920000-0000-7000-8000-00000000dead";
const TRAIN = {
  name: "train",
  sha256: TRAIN_SHA,
  spec: { kind: "shell" as const, argv: ["python3", "train.py"] },
};

let server: FauxqsServer;
let aws: AwsClients;
let deps: RegistrationDeps;
/** Each test's own bucket, queue prefix and dead-letter queue: no test sees another's records. */
let BUCKET: string;
let PREFIX: string;
let dlqArn: string;
let deployments = 0;
/** The service's clock; tests move it to age heartbeats. */
let clock = START;
let service: RegistrationService;
let handle: RegistrationHandler;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  aws = createAwsClients({
    region: "us-east-1",
    endpoints: { sqs: server.address, s3: server.address },
    credentials: EMULATOR_CREDENTIALS,
  });
});

beforeEach(() => {
  deployments++;
  BUCKET = `ferry-registration-test-${deployments}`;
  PREFIX = `regtest${deployments}-`;
  server.createBucket(BUCKET);
  dlqArn = server.createQueue(queueNames.deadLetter(PREFIX)).queueArn;
  clock = START;
  deps = {
    sqs: aws.sqs,
    s3: aws.s3,
    bucket: BUCKET,
    dlqArn,
    queuePrefix: PREFIX,
    maxReceiveCount: 4,
    now: () => clock,
  };
  service = createRegistrationService(deps);
  handle = createHandler(deps);
});

afterAll(async () => {
  aws?.destroy();
  await server?.stop();
});

type Called<A extends ControlAction> =
  | { v: 1; ok: true; data: ControlData<A> }
  | { v: 1; ok: false; error: ControlErrorBody };

/** Call the Lambda's dispatch and check the response against the wire schemas. */
async function call<A extends ControlAction>(
  action: A,
  fields: Record<string, unknown> = {},
): Promise<Called<A>> {
  const response = ControlResponse.parse(await handle({ v: 1, action, ...fields }));
  if (!response.ok) return response;
  return {
    v: 1,
    ok: true,
    data: ControlResponseData[action].parse(response.data) as ControlData<A>,
  };
}

async function queueAttributes(name: string): Promise<Record<string, string>> {
  const { QueueUrl } = await aws.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  const out = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }),
  );
  return out.Attributes ?? {};
}

async function queueExists(name: string): Promise<boolean> {
  try {
    await aws.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    return true;
  } catch (error) {
    if ((error as Error).name === "QueueDoesNotExist") return false;
    throw error;
  }
}

async function objectText(key: string): Promise<string | undefined> {
  try {
    const out = await aws.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return await out.Body?.transformToString();
  } catch (error) {
    if ((error as Error).name === "NoSuchKey") return undefined;
    throw error;
  }
}

function heartbeatOf(endpointId: string, agentId: string) {
  return {
    endpointId,
    agentId,
    slots: { total: 4, busy: 1 },
    runningTaskIds: [],
    versions: { ferry: "0.1.0", node: process.version },
    host: "node-1",
    pid: 4242,
  };
}

describe("endpoints", () => {
  it("registers an endpoint: a task queue with the redrive policy, and a record", async () => {
    const response = await call("registerEndpoint", { name: "cpu" });
    if (!response.ok) throw new Error(response.error.message);
    const { endpoint } = response.data;
    expect(endpoint).toMatchObject({ v: 1, name: "cpu", registeredAt: START });
    expect(endpoint.endpointId).toMatch(/^[0-9a-f-]{14}7/); // UUIDv7

    const attributes = await queueAttributes(queueNames.tasks(PREFIX, endpoint.endpointId));
    expect(JSON.parse(attributes.RedrivePolicy ?? "{}")).toEqual({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: 4,
    });
    expect(attributes).toMatchObject({
      VisibilityTimeout: "60",
      MessageRetentionPeriod: "1209600",
      ReceiveMessageWaitTimeSeconds: "20",
      MaximumMessageSize: "1048576",
    });
    const { Tags } = await aws.sqs.send(new ListQueueTagsCommand({ QueueUrl: endpoint.queueUrl }));
    expect(Tags).toMatchObject({ "ferry:endpoint-id": endpoint.endpointId });

    const stored = await objectText(registryKeys.endpoint(endpoint.endpointId));
    expect(JSON.parse(stored ?? "null")).toEqual(endpoint);
  });

  it("is idempotent on a given id, recreates a lost queue, and refuses a rename", async () => {
    const endpointId = "01920000-0000-7000-8000-000000000101";
    const first = await service.registerEndpoint({ name: "gpu", endpointId });
    clock += 5_000;
    const again = await service.registerEndpoint({ name: "gpu", endpointId });
    expect(again).toEqual(first);

    await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: first.endpoint.queueUrl }));
    expect(await queueExists(queueNames.tasks(PREFIX, endpointId))).toBe(false);
    const restored = await service.registerEndpoint({ name: "gpu", endpointId });
    expect(restored.endpoint.registeredAt).toBe(first.endpoint.registeredAt);
    expect(await queueExists(queueNames.tasks(PREFIX, endpointId))).toBe(true);

    const renamed = await call("registerEndpoint", { name: "other", endpointId });
    expect(renamed).toMatchObject({ ok: false, error: { type: "Conflict" } });
  });

  it("converges an existing queue to the current redrive policy", async () => {
    const endpointId = "01920000-0000-7000-8000-000000000102";
    await service.registerEndpoint({ name: "site", endpointId });
    const stricter = createRegistrationService({ ...deps, maxReceiveCount: 2 });
    await stricter.registerEndpoint({ name: "site", endpointId });
    const attributes = await queueAttributes(queueNames.tasks(PREFIX, endpointId));
    expect(JSON.parse(attributes.RedrivePolicy ?? "{}").maxReceiveCount).toBe(2);
  });

  it("reports online, stale and offline from the newest heartbeat", async () => {
    await service.registerEndpoint({ name: "cpu" });
    await service.registerEndpoint({ name: "site" });
    const { endpoint } = await service.registerEndpoint({
      name: "status",
      endpointId: "01920000-0000-7000-8000-000000000103",
    });
    const id = endpoint.endpointId;
    expect(await service.describeEndpoint({ endpointId: id })).toMatchObject({
      status: "offline",
      agents: [],
    });

    // A heartbeat's time is when S3 stored it (LastModified), so from here the clock is real.
    clock = Date.now();
    const beatAt = clock;
    const beat = await call("heartbeat", { heartbeat: heartbeatOf(id, "node-1-4242") });
    expect(beat).toEqual({ v: 1, ok: true, data: { at: beatAt } });

    const at = async (offsetMs: number) => {
      clock = beatAt + offsetMs;
      const response = await call("describeEndpoint", { endpointId: id });
      if (!response.ok) throw new Error(response.error.message);
      return response.data;
    };
    const online = await at(30_000);
    const heardAt = online.lastHeartbeat ?? 0;
    // S3 keeps whole seconds; the emulator, milliseconds.
    expect(Math.abs(heardAt - beatAt)).toBeLessThan(2_000);
    expect(online).toMatchObject({ status: "online" });
    expect(online.agents).toEqual([{ v: 1, at: heardAt, ...heartbeatOf(id, "node-1-4242") }]);
    expect(await at(120_000)).toMatchObject({ status: "stale", lastHeartbeat: heardAt });
    const offline = await at(700_000);
    expect(offline).toMatchObject({ status: "offline", lastHeartbeat: heardAt, agents: [] });

    // listEndpoints gives the same view, for every registered endpoint.
    const list = await call("listEndpoints");
    if (!list.ok) throw new Error(list.error.message);
    const names = list.data.endpoints.map((view) => view.endpoint.name);
    expect(names).toEqual(["cpu", "site", "status"]);
    expect(list.data.endpoints.find((view) => view.endpoint.endpointId === id)).toEqual(offline);

    clock = beatAt + 10_000;
    await service.heartbeat({ heartbeat: heartbeatOf(id, "node-2-7") });
    clock = beatAt + 20_000;
    const two = await service.describeEndpoint({ endpointId: id });
    expect(two.status).toBe("online");
    expect(two.agents.map((a) => a.agentId)).toEqual(["node-1-4242", "node-2-7"]);
  });

  it("refuses a heartbeat for an endpoint that is not registered", async () => {
    const response = await call("heartbeat", { heartbeat: heartbeatOf(UNKNOWN_ID, "a") });
    expect(response).toMatchObject({ ok: false, error: { type: "NotFound" } });
    expect(JSON.stringify(response)).toContain(UNKNOWN_ID);
    await expect(
      service.heartbeat({ heartbeat: heartbeatOf(UNKNOWN_ID, "a") }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await call("describeEndpoint", { endpointId: UNKNOWN_ID })).toMatchObject({
      ok: false,
      error: { type: "NotFound" },
    });
  });

  it("deregisters: queue, record and heartbeats are gone", async () => {
    const { endpoint } = await service.registerEndpoint({ name: "gone" });
    const id = endpoint.endpointId;
    await service.heartbeat({ heartbeat: heartbeatOf(id, "agent-1") });
    expect(await call("deregisterEndpoint", { endpointId: id })).toEqual({
      v: 1,
      ok: true,
      data: { endpointId: id },
    });
    expect(await queueExists(queueNames.tasks(PREFIX, id))).toBe(false);
    expect(await objectText(registryKeys.endpoint(id))).toBeUndefined();
    expect(await objectText(registryKeys.heartbeat(id, "agent-1"))).toBeUndefined();
    expect(await call("deregisterEndpoint", { endpointId: id })).toMatchObject({
      ok: false,
      error: { type: "NotFound" },
    });
  });
});

describe("functions", () => {
  const nodeSpec = (sha256: string) => ({ kind: "node" as const, bundleKey: bundleKey(sha256) });

  it("refuses a node function whose bundle was not uploaded", async () => {
    const response = await call("registerFunction", {
      name: "simulate",
      sha256: SHA_A,
      spec: nodeSpec(SHA_A),
    });
    expect(response).toMatchObject({ ok: false, error: { type: "NotFound" } });
    if (response.ok) return;
    expect(response.error.message).toContain(bundleKey(SHA_A));
    expect(response.error.message).toMatch(/upload/);
    expect(await objectText(registryKeys.function("simulate", SHA_A))).toBeUndefined();
  });

  it("refuses a bundle key other than functions/<sha256>.mjs", async () => {
    const response = await call("registerFunction", {
      name: "simulate",
      sha256: SHA_A,
      spec: { kind: "node", bundleKey: "functions/elsewhere.mjs" },
    });
    expect(response).toMatchObject({ ok: false, error: { type: "BadRequest" } });
    if (!response.ok) expect(response.error.message).toContain("spec.bundleKey");
  });

  it("registers versions and returns the latest, or the one asked for", async () => {
    for (const sha of [SHA_A, SHA_B]) {
      await aws.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: bundleKey(sha), Body: "export {}" }),
      );
    }
    clock = START + 1_000_000;
    const first = await call("registerFunction", {
      name: "simulate",
      sha256: SHA_A,
      spec: nodeSpec(SHA_A),
      description: "xtb relaxation",
    });
    expect(first).toMatchObject({ ok: true, data: { function: { registeredAt: clock } } });
    clock += 1_000;
    // Idempotent: the same content registered again keeps its first time and description.
    const again = await service.registerFunction({
      name: "simulate",
      sha256: SHA_A,
      spec: { kind: "node", bundleKey: bundleKey(SHA_A) },
    });
    expect(again.function).toEqual(first.ok ? first.data.function : undefined);

    clock += 1_000;
    await service.registerFunction({ name: "simulate", sha256: SHA_B, spec: nodeSpec(SHA_B) });
    await service.registerFunction({
      name: "train",
      sha256: TRAIN_SHA,
      spec: { kind: "shell", argv: ["python3", "train.py"] },
    });

    const latest = await call("getFunction", { name: "simulate" });
    expect(latest).toMatchObject({ ok: true, data: { function: { sha256: SHA_B } } });
    const exact = await call("getFunction", { name: "simulate", sha256: SHA_A });
    expect(exact).toMatchObject({
      ok: true,
      data: { function: { sha256: SHA_A, description: "xtb relaxation" } },
    });
    expect(await call("getFunction", { name: "simulate", sha256: "c".repeat(64) })).toMatchObject({
      ok: false,
      error: { type: "NotFound" },
    });
    expect(await call("getFunction", { name: "nothing" })).toMatchObject({
      ok: false,
      error: { type: "NotFound" },
    });

    const list = await call("listFunctions");
    if (!list.ok) throw new Error(list.error.message);
    expect(list.data.functions.map((f) => [f.name, f.sha256])).toEqual([
      ["simulate", SHA_B],
      ["train", TRAIN_SHA],
    ]);
  });

  it("refuses a shell function whose sha256 is not its argv's hash", async () => {
    // Otherwise one registered name and hash could stand for any command at all.
    const response = await call("registerFunction", {
      name: "train",
      sha256: TRAIN_SHA,
      spec: { kind: "shell", argv: ["python3", "other.py"] },
    });
    expect(response).toMatchObject({ ok: false, error: { type: "BadRequest" } });
    if (!response.ok)
      expect(response.error.message).toBe(
        `sha256: must be ${shellFunctionSha256(["python3", "other.py"])}, the hash of this argv template (shellFunctionSha256)`,
      );
  });

  it("refuses a known hash with a different spec", async () => {
    // A bundle stored under the shell function's hash, then registered as a node function of
    // the same name: the record already says what that hash is.
    await service.registerFunction(TRAIN);
    await aws.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: bundleKey(TRAIN_SHA), Body: "export {}" }),
    );
    const response = await call("registerFunction", {
      name: "train",
      sha256: TRAIN_SHA,
      spec: nodeSpec(TRAIN_SHA),
    });
    expect(response).toMatchObject({ ok: false, error: { type: "Conflict" } });
    const kept = await service.getFunction({ name: "train", sha256: TRAIN_SHA });
    expect(kept.function.spec).toEqual({ kind: "shell", argv: ["python3", "train.py"] });
  });
});

describe("sessions", () => {
  it("opens a result queue and closes it", async () => {
    const opened = await call("openSession");
    if (!opened.ok) throw new Error(opened.error.message);
    const { session } = opened.data;
    const name = queueNames.results(PREFIX, session.sessionId);
    expect(await queueAttributes(name)).toMatchObject({
      MessageRetentionPeriod: "1209600",
      ReceiveMessageWaitTimeSeconds: "20",
    });
    expect(
      JSON.parse((await objectText(registryKeys.session(session.sessionId))) ?? "null"),
    ).toEqual(session);
    // Opening a known session again is idempotent.
    expect(await service.openSession({ sessionId: session.sessionId })).toEqual({ session });

    clock += 60_000;
    const closed = await call("closeSession", { sessionId: session.sessionId });
    expect(closed).toMatchObject({ ok: true, data: { session: { closedAt: clock } } });
    expect(await queueExists(name)).toBe(false);
    const stored = JSON.parse((await objectText(registryKeys.session(session.sessionId))) ?? "{}");
    expect(stored.closedAt).toBe(clock);

    clock += 1_000;
    const twice = await service.closeSession({ sessionId: session.sessionId });
    expect(twice.session.closedAt).toBe(clock - 1_000);
    expect(await call("openSession", { sessionId: session.sessionId })).toMatchObject({
      ok: false,
      error: { type: "Conflict" },
    });
  });

  it("opens a session under a client-chosen id, and refuses to close an unknown one", async () => {
    const sessionId = "01920000-0000-7000-8000-000000000201";
    const opened = await service.openSession({ sessionId });
    expect(opened.session.sessionId).toBe(sessionId);
    expect(await queueExists(queueNames.results(PREFIX, sessionId))).toBe(true);
    expect(await call("closeSession", { sessionId: UNKNOWN_ID })).toMatchObject({
      ok: false,
      error: { type: "NotFound" },
    });
  });
});

describe("cancellations", () => {
  const SESSION = "01920000-0000-7000-8000-000000000301";
  const OTHER = "01920000-0000-7000-8000-000000000302";
  const task = (n: number) => `01920000-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;

  beforeEach(async () => {
    await service.openSession({ sessionId: SESSION });
  });

  const list = (sessions: { sessionId: string; after?: string }[]) =>
    call("listCancellations", { sessions });

  it("records each cancelled task under its session and time, and lists them from a cursor", async () => {
    clock = START + 5_000_000;
    const [a, b, c] = [task(0x3a), task(0x3b), task(0x3c)];
    expect(await call("cancelTasks", { sessionId: SESSION, taskIds: [a, b, a] })).toEqual({
      v: 1,
      ok: true,
      data: { cancelled: 2 },
    });
    expect(
      JSON.parse((await objectText(registryKeys.cancellation(SESSION, a, clock))) ?? "null"),
    ).toEqual({ v: 1, taskId: a, sessionId: SESSION, at: clock });
    expect(await objectText(registryKeys.cancellation(SESSION, c, clock))).toBeUndefined();

    const first = clock;
    expect(await list([{ sessionId: SESSION }, { sessionId: OTHER }])).toEqual({
      v: 1,
      ok: true,
      data: {
        sessions: [
          { sessionId: SESSION, taskIds: [a, b].sort(), lastAtMs: first },
          // A cancellation counts only for the session that recorded it.
          { sessionId: OTHER, taskIds: [] },
        ],
      },
    });
    expect(await list([])).toMatchObject({ ok: true, data: { sessions: [] } });

    // Cancelling again adds a record at the new time; listing after the first time finds it alone.
    clock += 1_000;
    expect(await service.cancelTasks({ sessionId: SESSION, taskIds: [a] })).toEqual({
      cancelled: 1,
    });
    expect(
      await list([{ sessionId: SESSION, after: cancellationCursor(first + 1) }]),
    ).toMatchObject({
      ok: true,
      data: { sessions: [{ sessionId: SESSION, taskIds: [a], lastAtMs: clock }] },
    });
  });

  it("takes 1,000 ids in one call and lists them in one page per session", async () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => task(0x10_000 + i));
    const even = ids.filter((_, i) => i % 2 === 0);
    expect(await service.cancelTasks({ sessionId: SESSION, taskIds: even })).toEqual({
      cancelled: 500,
    });
    const found = await list([{ sessionId: SESSION }]);
    expect(found.ok && found.data.sessions[0]?.taskIds.sort()).toEqual(even.sort());
    expect(found.ok && found.data.sessions[0]?.next).toBeUndefined();
  });

  it("refuses bad input as BadRequest naming the field", async () => {
    const bad = async (action: ControlAction, fields: Record<string, unknown>, field: RegExp) => {
      const response = await call(action, fields);
      expect(response).toMatchObject({ ok: false, error: { type: "BadRequest" } });
      if (!response.ok) expect(response.error.message).toMatch(field);
    };
    const tooMany = Array.from({ length: 1_001 }, (_, i) => task(0x20_000 + i));
    await bad("cancelTasks", { sessionId: SESSION, taskIds: [] }, /taskIds/);
    await bad("cancelTasks", { sessionId: SESSION, taskIds: tooMany }, /taskIds/);
    await bad("cancelTasks", { sessionId: SESSION, taskIds: ["../../x"] }, /taskIds\.0/);
    await bad("cancelTasks", { taskIds: [task(1)] }, /sessionId/);
    await bad("cancelTasks", { sessionId: "nope", taskIds: [task(1)] }, /sessionId/);
    await bad("listCancellations", {}, /sessions/);
    const manySessions = Array.from({ length: 101 }, (_, i) => ({ sessionId: task(0x30_000 + i) }));
    await bad("listCancellations", { sessions: manySessions }, /sessions/);
    await bad(
      "listCancellations",
      { sessions: [{ sessionId: SESSION, after: "../x" }] },
      /sessions\.0\.after/,
    );
    // Nothing was written for a refused request.
    const written = await list([{ sessionId: SESSION }]);
    expect(written.ok && written.data.sessions[0]?.taskIds).toEqual([]);
  });
});

describe("endpoint names", () => {
  it("are unique: a taken name returns its endpoint, a rename to it is refused, find reads one record", async () => {
    const first = await service.registerEndpoint({ name: "names-a" });
    const again = await service.registerEndpoint({ name: "names-a" });
    expect(again.endpoint.endpointId).toBe(first.endpoint.endpointId);
    const other = await service.registerEndpoint({ name: "names-b" });
    expect(
      await call("renameEndpoint", { endpointId: other.endpoint.endpointId, name: "names-a" }),
    ).toMatchObject({ ok: false, error: { type: "Conflict" } });
    // An explicit id under a taken name creates nothing.
    const stranger = "01920000-0000-7000-8000-0000000000f1";
    expect(await call("registerEndpoint", { name: "names-a", endpointId: stranger })).toMatchObject(
      { ok: false, error: { type: "Conflict" } },
    );
    expect(await queueExists(queueNames.tasks(PREFIX, stranger))).toBe(false);

    const renamed = await service.renameEndpoint({
      endpointId: first.endpoint.endpointId,
      name: "names-c",
    });
    expect(renamed.endpoint.name).toBe("names-c");
    expect((await service.findEndpoint({ name: "names-c" })).endpoint.endpointId).toBe(
      first.endpoint.endpointId,
    );
    expect(await call("findEndpoint", { name: "names-a" })).toMatchObject({
      ok: false,
      error: { type: "NotFound" },
    });
    // The freed name can be taken again.
    const taken = await service.registerEndpoint({ name: "names-a" });
    expect(taken.endpoint.endpointId).not.toBe(first.endpoint.endpointId);
    await service.deregisterEndpoint({ endpointId: taken.endpoint.endpointId });
    expect(await call("findEndpoint", { name: "names-a" })).toMatchObject({ ok: false });
  });

  it("finds endpoints registered before names had records", async () => {
    const old = "01920000-0000-7000-8000-0000000000f2";
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: registryKeys.endpoint(old),
        Body: JSON.stringify({
          v: 1,
          endpointId: old,
          name: "legacy",
          queueUrl: "http://x/legacy",
          registeredAt: START,
        }),
      }),
    );
    expect((await service.findEndpoint({ name: "legacy" })).endpoint.endpointId).toBe(old);
    expect(await objectText(registryKeys.endpointName("legacy"))).toContain(old);
  });
});

describe("parked results", () => {
  const SESSION = "01920000-0000-7000-8000-000000000401";
  const task = (n: number) =>
    `01920000-0000-7000-8000-${(0x400 + n).toString(16).padStart(12, "0")}`;
  const result = (taskId: string, attempt: number, text: string) => ({
    v: 1,
    taskId,
    sessionId: SESSION,
    topic: "default",
    attempt,
    ok: true,
    value: { inline: { text } },
    timings: { created: 1, sent: 1, received: 2, resultSent: 3 },
    worker: { endpointId: UNKNOWN_ID, host: "h", pid: 1 },
  });

  it("keeps the first result parked for a task and lists them all, page by page", async () => {
    await service.openSession({ sessionId: SESSION });
    const first = await call("parkResult", { result: result(task(1), 1, "first"), reason: "gone" });
    expect(first).toMatchObject({ ok: true, data: { parked: true } });
    const again = await call("parkResult", {
      result: result(task(1), 2, "second"),
      reason: "gone",
    });
    expect(again).toMatchObject({ ok: true, data: { parked: false } });
    // Results near a queue message's size: a page holds only a few, so listing needs `next`.
    const big = "x".repeat(900_000);
    for (let i = 2; i <= 7; i++) {
      await call("parkResult", { result: result(task(i), 1, big), reason: "gone" });
    }
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await call("listParkedResults", {
        sessionId: SESSION,
        ...(after ? { after } : {}),
      });
      if (!page.ok) throw new Error(page.error.message);
      pages++;
      for (const p of page.data.results) seen.push(p.taskId);
      after = page.data.next;
    } while (after !== undefined);
    expect(pages).toBeGreaterThan(1);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7].map(task));
    const one = await service.listParkedResults({ sessionId: SESSION });
    const kept = one.results.find((p) => p.taskId === task(1));
    expect(kept?.result.ok && kept.result.value).toEqual({ inline: { text: "first" } });
    expect(kept?.reason).toBe("gone");
    expect(await call("listParkedResults", { sessionId: UNKNOWN_ID })).toMatchObject({
      ok: false,
      error: { type: "NotFound" },
    });
  });

  it("refuses a parked result that is not a result message", async () => {
    const bad = await call("parkResult", { result: { taskId: task(9) }, reason: "gone" });
    expect(bad).toMatchObject({ ok: false, error: { type: "BadRequest" } });
  });
});

describe("malformed requests", () => {
  const badRequest = async (event: unknown, field: RegExp) => {
    const response = ControlResponse.parse(await handle(event));
    expect(response).toMatchObject({ v: 1, ok: false, error: { type: "BadRequest" } });
    if (!response.ok) expect(response.error.message).toMatch(field);
  };

  it("answers BadRequest naming the field, and never throws", async () => {
    await badRequest({ v: 1 }, /action/);
    await badRequest({ v: 1, action: "launchMissiles" }, /action.*registerEndpoint/);
    await badRequest({ v: 2, action: "listEndpoints" }, /^control request: v: .*version/);
    await badRequest({ action: "listEndpoints" }, /v: /);
    await badRequest({ v: 1, action: "describeEndpoint", endpointId: "not-a-uuid" }, /endpointId/);
    await badRequest({ v: 1, action: "registerEndpoint", name: "../etc" }, /name/);
    await badRequest(
      { v: 1, action: "heartbeat", heartbeat: { endpointId: UNKNOWN_ID } },
      /heartbeat\.agentId/,
    );
    await badRequest(
      { v: 1, action: "registerFunction", name: "f", sha256: "XYZ", spec: { kind: "node" } },
      /sha256/,
    );
    await badRequest(null, /expected object/);
    await badRequest(undefined, /expected object/);
    await badRequest("{not json", /not valid JSON/);
  });

  it("accepts a request sent as a JSON string", async () => {
    const response = await handle(JSON.stringify({ v: 1, action: "listFunctions" }));
    expect(response).toMatchObject({ v: 1, ok: true });
  });
});

describe("the Lambda entry point", () => {
  it("reads its environment, reaches the emulator and answers", async () => {
    const env = {
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: server.address,
      FERRY_BUCKET: BUCKET,
      FERRY_DLQ_ARN: dlqArn,
      FERRY_QUEUE_PREFIX: PREFIX,
      FERRY_MAX_RECEIVE_COUNT: "4",
    };
    const saved = Object.fromEntries(
      [...Object.keys(env), "AWS_ACCESS_KEY_ID"].map((k) => [k, process.env[k]]),
    );
    Object.assign(process.env, env);
    delete process.env.AWS_ACCESS_KEY_ID;
    try {
      await service.registerFunction(TRAIN);
      const { handler } = await import("#functions/registration/handler.ts");
      const response = await handler({ v: 1, action: "getFunction", name: "train" });
      expect(response).toMatchObject({ v: 1, ok: true, data: { function: { name: "train" } } });
      expect(await handler({ v: 1, action: "nope" })).toMatchObject({
        ok: false,
        error: { type: "BadRequest" },
      });
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
