// The control plane's listings do not grow with one S3 request per record: the registration
// service over the emulator with a client that counts its S3 requests. 2,500 endpoints (three
// ListObjectsV2 pages) with a fifth of them heard from; the first listing reads every record
// once, a second one with nothing changed reads none, a cold service reads the snapshots.
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import { queueNames, registryKeys } from "#core/names.ts";
import type { EndpointView } from "#core/protocol/index.ts";
import {
  createRegistrationService,
  HEARTBEAT_RETENTION_MS,
  type RegistrationDeps,
  type RegistrationService,
} from "#functions/registration/index.ts";
import { listAllEndpoints } from "#sdk/index.ts";
import {
  seedEndpoints,
  seededName,
  seededStatus,
  serviceControl,
} from "../helpers/seed-endpoints.ts";

const COUNT = 2_500;
const BUCKET = "ferry-registration-scale";
const PREFIX = "scale-";
/** What a listing may spend on pages: ceil(2,500 / 1,000) + ceil(750 / 1,000), and a range more each. */
const PAGE_REQUESTS = 3 + 1 + 2;

let server: FauxqsServer;
let aws: AwsClients;
let deps: RegistrationDeps;
let warm: RegistrationService;
const counts = new Map<string, number>();
const clients: AwsClients[] = [];

/** A service on a client of its own whose S3 requests are counted by command. */
function countedService(extra: Partial<RegistrationDeps> = {}): RegistrationService {
  const own = createAwsClients({
    region: "us-east-1",
    endpoints: { sqs: server.address, s3: server.address },
    credentials: EMULATOR_CREDENTIALS,
  });
  clients.push(own);
  own.s3.middlewareStack.add(
    (next, context) => (args) => {
      const name = (context.commandName ?? "").replace(/Command$/, "");
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "ferryTestCounter" },
  );
  return createRegistrationService({ ...deps, s3: own.s3, ...extra });
}

/** The S3 requests `run` makes, by command. */
async function requestsOf(run: () => Promise<unknown>): Promise<Record<string, number>> {
  counts.clear();
  await run();
  return Object.fromEntries(counts);
}

const listAll = (service: RegistrationService) => listAllEndpoints(serviceControl(service));

/** Write (or, without a body, delete) an object behind the services' backs. */
function putRaw(key: string, body?: string): Promise<unknown> {
  const at = { Bucket: BUCKET, Key: key };
  return aws.s3.send(
    body === undefined ? new DeleteObjectCommand(at) : new PutObjectCommand({ ...at, Body: body }),
  );
}

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  aws = createAwsClients({
    region: "us-east-1",
    endpoints: { sqs: server.address, s3: server.address },
    credentials: EMULATOR_CREDENTIALS,
  });
  server.createBucket(BUCKET);
  const dlqArn = server.createQueue(queueNames.deadLetter(PREFIX)).queueArn;
  deps = {
    sqs: aws.sqs,
    s3: aws.s3,
    bucket: BUCKET,
    dlqArn,
    queuePrefix: PREFIX,
    maxReceiveCount: 4,
  };
  const seeder = createRegistrationService(deps);
  await seedEndpoints(
    { ...deps, queuePrefix: PREFIX, control: serviceControl(seeder) },
    "scale",
    0,
    COUNT,
  );
  warm = countedService();
}, 120_000);

afterAll(async () => {
  for (const own of clients) own.destroy();
  aws?.destroy();
  await server?.stop();
});

function expectSeeded(views: readonly EndpointView[]): void {
  expect(views).toHaveLength(COUNT);
  views.forEach((view, i) => {
    // Sorted by name, and the names are zero-padded: the i-th view is endpoint i.
    expect(view.endpoint.name).toBe(seededName("scale", i));
    const want = seededStatus(i);
    expect({ status: view.status, agents: view.agents.length }).toEqual(want);
  });
}

describe("listEndpoints at scale", () => {
  it("reads each record once; a second listing with no change costs its pages and no GET", async () => {
    let views: EndpointView[] = [];
    const first = await requestsOf(async () => {
      views = await listAll(warm);
    });
    expectSeeded(views);
    // Every record once (endpoints and the three heard-from tenths' heartbeats), and the two snapshots.
    expect(first.GetObject).toBeGreaterThanOrEqual(COUNT);
    expect(first.PutObject).toBe(2);

    const second = await requestsOf(async () => {
      views = await listAll(warm);
    });
    expectSeeded(views);
    expect(second.GetObject ?? 0).toBe(0);
    expect(second.PutObject ?? 0).toBe(0);
    expect(second.ListObjectsV2).toBeLessThanOrEqual(PAGE_REQUESTS);
    expect(Object.keys(second)).toEqual(["ListObjectsV2"]);
  });

  it("a heartbeat with the same state costs no GET and moves the time; a changed one, one GET", async () => {
    const online = (await listAll(warm))[0];
    if (!online?.agents[0]) throw new Error("endpoint 0 should be online");
    const { v: _v, at, ...beat } = online.agents[0];
    // Beats reach other Lambda containers than the one that lists.
    const other = createRegistrationService(deps);
    await new Promise((r) => setTimeout(r, 20));
    await other.heartbeat({ heartbeat: beat });
    let after: EndpointView[] = [];
    const same = await requestsOf(async () => {
      after = await listAll(warm);
    });
    expect(same.GetObject ?? 0).toBe(0);
    expect(after[0]?.lastHeartbeat ?? 0).toBeGreaterThan(at);

    await other.heartbeat({ heartbeat: { ...beat, slots: { total: 4, busy: 4 } } });
    const changed = await requestsOf(async () => {
      after = await listAll(warm);
    });
    expect(changed.GetObject).toBe(1);
    expect(after[0]?.agents[0]?.slots).toEqual({ total: 4, busy: 4 });
    // What a container wrote itself it need not read back.
    await warm.heartbeat({ heartbeat: { ...beat, slots: { total: 4, busy: 3 } } });
    const own = await requestsOf(async () => {
      after = await listAll(warm);
    });
    expect(own.GetObject ?? 0).toBe(0);
    expect(after[0]?.agents[0]?.slots).toEqual({ total: 4, busy: 3 });
  });

  it("a cold service reads the snapshots, not the records, and answers the same", async () => {
    const expected = await listAll(warm);
    let views: EndpointView[] = [];
    const cold = await requestsOf(async () => {
      views = await listAll(countedService());
    });
    expect(views).toEqual(expected);
    // The two snapshots, and the few records changed since they were written.
    expect(cold.GetObject ?? 0).toBeLessThanOrEqual(2 + 2);
    expect(cold.ListObjectsV2).toBeLessThanOrEqual(2 * PAGE_REQUESTS);
  });

  it("a snapshot is only a cache: a record changed behind it, or a corrupt one, still reads right", async () => {
    const [, second] = await listAll(warm);
    if (!second) throw new Error("no endpoints");
    const renamed = { ...second.endpoint, name: "renamed-behind-the-index" };
    await putRaw(registryKeys.endpoint(renamed.endpointId), JSON.stringify(renamed));
    const cold = await listAll(countedService());
    expect(cold.find((v) => v.endpoint.endpointId === renamed.endpointId)?.endpoint.name).toBe(
      renamed.name,
    );
    await putRaw(registryKeys.index("endpoints"), "{");
    const fresh = await requestsOf(async () => {
      expect(await listAll(countedService())).toEqual(cold);
    });
    expect(fresh.GetObject).toBeGreaterThanOrEqual(COUNT);
    // Put back for the tests after this one.
    await putRaw(registryKeys.endpoint(renamed.endpointId), JSON.stringify(second.endpoint));
  });

  it("pages stay under their byte bound, in id order, and together hold every endpoint once", async () => {
    const paged = countedService({ listPageBytes: 200_000 });
    const ids: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await paged.listEndpoints(after === undefined ? {} : { after });
      expect(Buffer.byteLength(JSON.stringify(page.endpoints))).toBeLessThan(200_000 + 2_000);
      const pageIds = page.endpoints.map((v) => v.endpoint.endpointId).sort();
      if (after !== undefined) expect((pageIds[0] ?? "") > after).toBe(true);
      ids.push(...pageIds);
      after = page.next;
      pages++;
    } while (after !== undefined);
    expect(pages).toBeGreaterThan(2);
    expect(new Set(ids).size).toBe(COUNT);
    expectSeeded(await listAll(paged));
  });

  it("registering a new name reads no record but the ones it writes", async () => {
    await listAll(warm);
    const register = await requestsOf(() => warm.registerEndpoint({ name: "scale-new-name" }));
    // The name record (twice), the endpoint record, and the listing that looks for endpoints
    // registered before names had records: its pages, not its records.
    expect(register.GetObject ?? 0).toBeLessThanOrEqual(3);
    expect(register.ListObjectsV2).toBeLessThanOrEqual(PAGE_REQUESTS);
    expect(register.PutObject).toBe(2);
    const found = await requestsOf(() => warm.findEndpoint({ name: "scale-new-name" }));
    expect(found.GetObject).toBe(2);
    expect(found.ListObjectsV2).toBe(1);
  });

  it("a corrupt record is left out, and not read again until it changes", async () => {
    await putRaw(registryKeys.endpoint("01920000-0000-7000-8000-00000000bad0"), "{");
    // COUNT and the one registered above.
    const first = await requestsOf(async () => {
      expect(await listAll(warm)).toHaveLength(COUNT + 1);
    });
    expect(first.GetObject).toBe(1);
    const again = await requestsOf(async () => {
      expect(await listAll(warm)).toHaveLength(COUNT + 1);
    });
    expect(again.GetObject ?? 0).toBe(0);
  });

  it("records added inside the ranges of the last listing are all listed (ranges outgrow a page)", async () => {
    const base = await listAll(warm);
    // Ids next to existing ones: they land inside the ranges the warm index cuts its listing in.
    const sibling = (id: string) =>
      id.slice(0, -1) + ((Number.parseInt(id.slice(-1), 16) + 1) % 16).toString(16);
    const extra = base
      .filter((_, i) => i % 2 === 0)
      .slice(0, 1_200)
      .map((v) => ({
        ...v.endpoint,
        endpointId: sibling(v.endpoint.endpointId),
        name: `${v.endpoint.name}-x`,
      }));
    // Written, then deleted, 50 at a time.
    const each = async (body: (e: (typeof extra)[number]) => string | undefined) => {
      for (let i = 0; i < extra.length; i += 50) {
        const batch = extra.slice(i, i + 50);
        await Promise.all(batch.map((e) => putRaw(registryKeys.endpoint(e.endpointId), body(e))));
      }
    };
    await each((e) => JSON.stringify(e));
    let views: EndpointView[] = [];
    const grown = await requestsOf(async () => {
      views = await listAll(warm);
    });
    expect(views).toHaveLength(base.length + extra.length);
    expect(new Set(views.map((v) => v.endpoint.endpointId)).size).toBe(views.length);
    // 3 ranges cut at the 1,000th and 2,000th key of 2,500, now holding ~1,400, ~1,400 and ~900
    // keys: 2 + 2 + 1 pages, and the heartbeats' page.
    expect(grown.ListObjectsV2).toBe(6);
    // The new records, and the snapshot (a cold service above rewrote it) on the chance it has them.
    expect(grown.GetObject).toBeGreaterThanOrEqual(extra.length);
    expect(grown.GetObject).toBeLessThanOrEqual(extra.length + 1);
    await each(() => undefined);
    expect(await listAll(warm)).toEqual(base);
  });

  it("heartbeats past their retention are deleted as they are listed (last: it empties them)", async () => {
    const later = countedService({ now: () => Date.now() + HEARTBEAT_RETENTION_MS + 60_000 });
    const views = await listAll(later);
    expect(views.every((v) => v.status === "offline" && v.lastHeartbeat === undefined)).toBe(true);
    const left = await aws.s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: registryKeys.heartbeatsRoot }),
    );
    expect(left.KeyCount ?? 0).toBe(0);
  });
});
