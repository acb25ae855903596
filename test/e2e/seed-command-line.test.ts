// The seed's example command line (exalearn/multi-site-campaigns, molecular-design README,
// "Example ProxyStore Usage") run as written on the suite's local deployment: a real
// redis-server for the simulate topic, a shared directory for infer and train, two real agents
// (obabel + xtb on one, train and infer on the other). Only the endpoint names, the Redis
// address and the directory are swapped in; the sizes are made small through the seed's own
// options (--search-space, --search-size, --model-count, --molecules-per-ml-task,
// --retrain-frequency), appended after the seed's line.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointRecord } from "#core/protocol/index.ts";
import { REDIS_DEFAULT_TTL_SECONDS } from "#core/store/index.ts";
import { type AgentProcess, spawnAgent } from "#local/index.ts";
import { waitForEndpointsOnline } from "#sdk/index.ts";
import { SEARCH_SPACE_PATH } from "../../campaigns/ipopt/data/index.ts";
import { connectForTest, ferryEnv, runFerry, runFerryJson } from "../helpers/ferry.ts";
import { type RedisServerProcess, startRedisServer } from "../helpers/redis-server.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const QC_WORKERS = 2;
const agents: AgentProcess[] = [];
const endpoints = { qc: `theta-${suffix}`, ml: `thetagpu-${suffix}` };
let redis: RedisServerProcess;
let dir: string;
let psFileDir: string;

/** The seed's line, with this machine's endpoints, Redis server and scratch directory. */
const seedLine = () => [
  ...["--redishost", redis.host, "--redisport", String(redis.port)],
  ...["--qc-endpoint", endpoints.qc, "--ml-endpoint", endpoints.ml],
  ...["--simulate-ps-backend", "redis"],
  ...["--infer-ps-backend", "file", "--train-ps-backend", "file"],
  ...["--ps-threshold", "500000", "--ps-file-dir", psFileDir],
];

beforeAll(async () => {
  redis = await startRedisServer();
  dir = await mkdtemp(join(tmpdir(), "ferry-seed-line-"));
  psFileDir = join(dir, "scratch", "proxystore-dump");
  // As the seed's sites: the simulation site reaches Redis and the shared filesystem, the
  // GPU site only the filesystem.
  const sites = {
    qc: { workers: QC_WORKERS, storeRedisServers: [redis.server], storeFileDir: psFileDir },
    ml: { workers: 2, storeFileDir: psFileDir },
  };
  const conn = await connectForTest();
  const ids: string[] = [];
  for (const role of ["qc", "ml"] as const) {
    const endpoint = await runFerryJson<EndpointRecord>(["endpoint", "register", endpoints[role]]);
    const configPath = join(dir, `site-${role}.json`);
    await writeFile(configPath, JSON.stringify({ ...sites[role], heartbeatIntervalSeconds: 1 }));
    agents.push(spawnAgent({ endpointId: endpoint.endpointId, env: ferryEnv(), configPath }));
    ids.push(endpoint.endpointId);
  }
  // The seed's line has no --num-qc-workers: the count comes from the QC agent's slots.
  await waitForEndpointsOnline(conn.control, ids, 60_000);
  conn.close();
  const space = gunzipSync(await readFile(SEARCH_SPACE_PATH))
    .toString("utf8")
    .split("\n");
  await writeFile(join(dir, "space.smi"), `${space.slice(0, 200).join("\n")}\n`);
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop(10_000)));
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const SEARCH_SIZE = 4;

/** `ferry campaign run ipopt` with the seed's line, made small by the seed's own options. */
async function runSeedLine(name: string, extra: string[] = []): Promise<string> {
  const small = [
    ...["--search-space", join(dir, "space.smi"), "--search-size", String(SEARCH_SIZE)],
    ...["--model-count", "2", "--molecules-per-ml-task", "100", "--retrain-frequency", "2"],
  ];
  const out = join(dir, name);
  const run = await runFerry(
    ["campaign", "run", "ipopt", ...seedLine(), ...small, ...extra, "--name", name, "--out", out],
    { timeoutMs: 280_000 },
  );
  expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(0);
  expect(run.stdout).toContain("best molecules found");
  const [runName] = await readdir(out);
  return join(out, runName ?? "");
}

async function ferryKeys(): Promise<string[]> {
  const raw = new Redis({ host: redis.host, port: redis.port });
  try {
    return await raw.keys("ferry:*");
  } finally {
    raw.disconnect();
  }
}

const lines = async (runDir: string, file: string) =>
  (await readFile(join(runDir, file), "utf8")).split("\n").filter((l) => l.trim() !== "");

describe("the seed's example command line", () => {
  it("runs unchanged apart from endpoint names: redis for simulate, file for infer and train", async () => {
    const runDir = await runSeedLine("seed");
    const params = JSON.parse(await readFile(join(runDir, "run_params.json"), "utf8"));
    expect(params).toMatchObject({
      numQcWorkers: QC_WORKERS,
      qcSpecification: "xtb-adiabatic",
      nodesPerTask: 1,
      simulatePsBackend: "redis",
      inferPsBackend: "file",
      trainPsBackend: "file",
      psThreshold: 500_000,
      redisHost: redis.host,
      redisPort: redis.port,
    });
    expect(params.storePolicies).toEqual({
      simulate: { backend: "redis", thresholdBytes: 500_000, server: redis.server },
      infer: { backend: "file", thresholdBytes: 500_000, fileDir: psFileDir },
      train: { backend: "file", thresholdBytes: 500_000, fileDir: psFileDir },
    });
    const simulations = (await lines(runDir, "simulation-results.jsonl")).map((l) => JSON.parse(l));
    // A task may succeed without an IP (its relaxation changed the bonds): count the IPs.
    const found = simulations.filter((s) => s.ok && Number.isFinite(s.ipEv));
    expect(found).toHaveLength(SEARCH_SIZE);
    for (const s of found) {
      expect(s.ipEv).toBeGreaterThan(5);
      expect(s.ipEv).toBeLessThan(20);
      expect(s.sizes.valueByReference).toBe(false); // a few hundred bytes, under 500000
    }
    expect(await lines(runDir, "molecules.csv")).toHaveLength(SEARCH_SIZE + 1); // header
    expect((await lines(runDir, "training-results.jsonl")).length).toBeGreaterThanOrEqual(2);
    expect((await lines(runDir, "inference-results.jsonl")).length).toBeGreaterThanOrEqual(4);
    expect(await ferryKeys()).toEqual([]);
  }, 300_000);

  it("moves values by reference through Redis and the shared directory past a lower --ps-threshold", async () => {
    // The seed's line with one value changed, --ps-threshold 50: a simulate task's arguments
    // and result are 100-200 bytes, a training set tens of kB, so every store is used.
    const runDir = await runSeedLine("seed-low", ["--ps-threshold", "50"]);
    const simulations = (await lines(runDir, "simulation-results.jsonl")).map((l) => JSON.parse(l));
    const found = simulations.filter((s) => s.ok && Number.isFinite(s.ipEv));
    expect(found).toHaveLength(SEARCH_SIZE);
    expect(found.every((s) => s.sizes.valueByReference)).toBe(true);
    const training = (await lines(runDir, "training-results.jsonl")).map((l) => JSON.parse(l));
    expect(training.filter((t) => t.ok && t.sizes.valueByReference).length).toBeGreaterThan(0);
    // Readers delete what they read (the agent a task's arguments once its result is out, a
    // little after the client has it); whatever a cancelled task left expires with its TTL.
    const raw = new Redis({ host: redis.host, port: redis.port });
    try {
      const left = await raw.keys("ferry:*");
      expect(left.length).toBeLessThanOrEqual(QC_WORKERS * 2);
      for (const key of left) {
        expect(key).toMatch(/^ferry:tmp\/[^/]+\/[0-9a-f-]{36}\.json$/);
        expect(await raw.ttl(key)).toBeGreaterThan(REDIS_DEFAULT_TTL_SECONDS - 600);
      }
    } finally {
      raw.disconnect();
    }
  }, 300_000);

  it("answers the seed's globus backend in one line that points to s3", async () => {
    for (const extra of [
      ["--simulate-ps-backend", "globus"],
      ["--ps-globus-config", "globus_config.json"],
    ]) {
      const run = await runFerry(["campaign", "run", "ipopt", ...seedLine(), ...extra]);
      expect(run.code).not.toBe(0);
      const message = run.stderr.trim();
      expect(message.split("\n")).toHaveLength(1);
      expect(message).toContain("globus");
      expect(message).toContain("use s3");
    }
  });

  it("refuses --nodes-per-task wider than the QC agent's slots, naming the endpoint", async () => {
    const run = await runFerry([
      "campaign",
      "run",
      "ipopt",
      ...seedLine(),
      "--nodes-per-task",
      "3",
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim()).toBe(
      `ferry: --nodes-per-task 3: endpoint ${endpoints.qc}'s agents run at most ${QC_WORKERS} tasks at once, one core each: ask for at most ${QC_WORKERS}, or give the site more workers (site config workers)`,
    );
  });
});
