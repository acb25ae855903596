// `ferry status` against the emulator: one endpoint with a live agent (online) and one whose
// last heartbeat is five minutes old (stale), with a task waiting in its queue.
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import { registryKeys } from "#core/names.ts";
import type { EndpointRecord } from "#core/protocol/index.ts";
import { type AgentProcess, spawnAgent } from "#local/index.ts";
import { executorFor, waitForEndpointsOnline } from "#sdk/index.ts";
import { connectForTest, ferryEnv, runFerry, runFerryJson } from "../helpers/ferry.ts";

interface Snapshot {
  endpoints: Array<{
    endpointId: string;
    status: string;
    agents: number;
    freeSlots: number;
    queued?: number;
  }>;
  session?: { sessionId: string; tasks: Record<string, number> };
}

const suffix = Math.random().toString(36).slice(2, 8);
let conn: Connection;
let online: EndpointRecord;
let stale: EndpointRecord;
let agent: AgentProcess;
let sessionId: string;

beforeAll(async () => {
  conn = await connectForTest();
  const dir = await mkdtemp(join(tmpdir(), "ferry-status-"));
  online = await runFerryJson<EndpointRecord>(["endpoint", "register", `up-${suffix}`]);
  stale = await runFerryJson<EndpointRecord>(["endpoint", "register", `old-${suffix}`]);
  await writeFile(
    join(dir, "site.json"),
    JSON.stringify({ workers: 3, heartbeatIntervalSeconds: 1 }),
  );
  agent = spawnAgent({
    endpointId: online.endpointId,
    env: ferryEnv(),
    configPath: join(dir, "site.json"),
  });
  await waitForEndpointsOnline(conn.control, [online.endpointId], 60_000);
  // An agent that died five minutes ago: its last heartbeat record, as the registry keeps it.
  const at = Date.now() - 5 * 60_000;
  await conn.aws.s3.send(
    new PutObjectCommand({
      Bucket: conn.deployment.bucketName,
      Key: registryKeys.heartbeat(stale.endpointId, "gone-node-1"),
      Body: JSON.stringify({
        v: 1,
        endpointId: stale.endpointId,
        agentId: "gone-node-1",
        at,
        slots: { total: 4, busy: 0 },
        runningTaskIds: [],
        versions: { ferry: "0.1.0", node: process.version },
        host: "gone-node",
        pid: 1,
      }),
    }),
  );
  await runFerryJson([
    "function",
    "register",
    "test/fixtures/functions/echo.ts",
    "--name",
    `echo-${suffix}`,
  ]);
  const executor = executorFor(conn);
  await executor.submit(`echo-${suffix}`, { waiting: true }, { endpointId: stale.endpointId });
  sessionId = executor.sessionId ?? "";
  await executor.close();
}, 120_000);

afterAll(async () => {
  await agent?.stop(10_000);
  conn?.close();
});

it("shows one endpoint online with free slots and one stale with a queued task", async () => {
  // Other test files write sessions into the same FERRY_HOME: name ours.
  const s = await runFerryJson<Snapshot>(["status", "--session", sessionId]);
  const up = s.endpoints.find((e) => e.endpointId === online.endpointId);
  const old = s.endpoints.find((e) => e.endpointId === stale.endpointId);
  expect(up).toMatchObject({ status: "online", agents: 1, freeSlots: 3 });
  expect(old).toMatchObject({ status: "stale", queued: 1 });
  expect(s.session?.tasks.queued).toBe(1);
  const human = await runFerry(["status"]);
  expect(human.stdout).toMatch(new RegExp(`up-${suffix}\\s+\\S+\\s+online`));
  expect(human.stdout).toMatch(new RegExp(`old-${suffix}\\s+\\S+\\s+stale`));
});

it("--watch refreshes until interrupted", async () => {
  const bin = fileURLToPath(new URL("../../bin/ferry.js", import.meta.url));
  const child = spawn(process.execPath, [bin, "status", "--watch", "1", "--json"], {
    env: ferryEnv(),
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  for (let i = 0; i < 300 && out.split("\n").filter(Boolean).length < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGINT");
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const snapshots = out
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Snapshot & { at: number });
  expect(snapshots.length).toBeGreaterThanOrEqual(2);
  expect((snapshots[1]?.at ?? 0) - (snapshots[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
  expect(code).toBe(0);
}, 60_000);
