// `ferry endpoint list` and `ferry status` with 10,000 registered endpoints, as CLI child
// processes. A deployment of its own: the suite's would show 10,000 endpoints to every other
// test. The endpoints are seeded as test/helpers/seed-endpoints.ts says (records through the
// registration function's own record store, real task queues, heartbeats through the real
// heartbeat action: a tenth online, a tenth stopped, a tenth stale); three more are registered
// with `ferry endpoint register` itself. Times are the benchmark's business
// (npm run bench:control-plane), not this test's.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import type { EndpointRecord, EndpointView } from "#core/protocol/index.ts";
import { type LocalDeployment, startLocal } from "#local/index.ts";
import { runFerry } from "../helpers/ferry.ts";
import { seedEndpoints, seededName, seededStatus } from "../helpers/seed-endpoints.ts";

const COUNT = 10_000;
const CLI_NAMES = ["by-cli-a", "by-cli-b", "by-cli-c"];

let home: string;
let local: LocalDeployment;
let conn: Connection;
let env: NodeJS.ProcessEnv;
let seeded: EndpointRecord[];
const byCli: EndpointRecord[] = [];

async function ferryJson<T>(args: string[]): Promise<T> {
  const r = await runFerry([...args, "--json"], { env, timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "ferry-scale-"));
  local = await startLocal({ home, backend: loadEnv().localBackend ?? "fauxqs" });
  env = {
    ...process.env,
    FERRY_HOME: home,
    FERRY_DEPLOYMENT: local.deploymentPath,
    FERRY_LOG_LEVEL: "warn",
  };
  conn = await connect(loadEnv(env));
  seeded = await seedEndpoints(
    {
      s3: conn.aws.s3,
      sqs: conn.aws.sqs,
      bucket: conn.deployment.bucketName,
      queuePrefix: conn.deployment.queuePrefix,
      control: conn.control,
    },
    "many",
    0,
    COUNT,
  );
  for (const name of CLI_NAMES) {
    byCli.push(await ferryJson<EndpointRecord>(["endpoint", "register", name]));
  }
}, 600_000);

afterAll(async () => {
  conn?.close();
  await local?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe(`${COUNT.toLocaleString("en")} endpoints`, () => {
  it("ferry endpoint list --json lists every one once, by name, with its status from its heartbeats", async () => {
    const views = await ferryJson<EndpointView[]>(["endpoint", "list"]);
    expect(views).toHaveLength(COUNT + CLI_NAMES.length);
    expect(views.slice(0, CLI_NAMES.length).map((v) => v.endpoint.name)).toEqual(CLI_NAMES);
    expect(views.slice(0, 3).map((v) => v.endpoint.endpointId)).toEqual(
      byCli.map((e) => e.endpointId),
    );
    const many = views.slice(CLI_NAMES.length);
    many.forEach((view, i) => {
      expect(view.endpoint).toEqual(seeded[i]);
      expect(view.endpoint.name).toBe(seededName("many", i));
      expect({ status: view.status, agents: view.agents.length }).toEqual(seededStatus(i));
    });
    // A sample in full: the online one's agent is the heartbeat it sent.
    expect(many[10]?.agents[0]).toMatchObject({
      endpointId: seeded[10]?.endpointId,
      agentId: "seed-node-10",
      slots: { total: 4, busy: 1 },
    });
    expect(many[10]?.lastHeartbeat).toBeGreaterThan(Date.now() - 600_000);
  });

  it("ferry status --json has a row for every one, with agents, slots and some queues read", async () => {
    const s = await ferryJson<{
      endpoints: Array<{
        name: string;
        endpointId: string;
        status: string;
        agents: number;
        freeSlots: number;
        queued?: number;
      }>;
      queues: { read: number; of: number };
    }>(["status"]);
    expect(s.endpoints).toHaveLength(COUNT + CLI_NAMES.length);
    expect(s.queues).toEqual({ read: 200, of: COUNT + CLI_NAMES.length });
    const rows = new Map(s.endpoints.map((row) => [row.endpointId, row]));
    seeded.forEach((record, i) => {
      const row = rows.get(record.endpointId);
      const want = seededStatus(i);
      expect(row).toMatchObject({ name: record.name, status: want.status });
      // Offline endpoints count no agents; the online ones' agents have 4 slots, i % 3 busy.
      expect(row?.agents).toBe(want.status === "offline" ? 0 : 1);
      if (want.status === "online") expect(row?.freeSlots).toBe(4 - (i % 3));
    });
    // The queues read first are the online endpoints' (none has a task waiting).
    const read = s.endpoints.filter((row) => row.queued !== undefined);
    expect(read).toHaveLength(200);
    expect(read.every((row) => row.status === "online" && row.queued === 0)).toBe(true);
  });

  it("ferry status says how many queues it read", async () => {
    const r = await runFerry(["status"], { env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`queue depth read for 200 of ${COUNT + CLI_NAMES.length} endpoints`);
    expect(r.stdout).toMatch(/many-00010\s+\S+\s+online/);
  });
});
