// `ferry campaign cost` and the agent's request meter through the real path: the suite's
// deployment, the real CLI and agent as child processes, a metered connection's own requests.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RequestMeter, RequestTally } from "#core/aws/index.ts";
import {
  addAgentTallies,
  DEFAULT_PRICES_PATH,
  readRunRequests,
  writeClientRequests,
} from "#core/cost/index.ts";
import { spawnAgent } from "#local/index.ts";
import { waitForEndpointsOnline } from "#sdk/index.ts";
import { connectForTest, ferryEnv, runFerry, runFerryJson } from "../helpers/ferry.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ferry-cost-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface CostJson {
  totalDollars: number;
  lines: { service: string; kind: string; quantity: number; dollars: number }[];
  prices: { region: string; checked: string };
  agents: string[];
}

describe("ferry campaign cost", () => {
  it("prices a run directory's requests, the agent's counted by its own meter", async () => {
    const conn = await connectForTest();
    const meter = new RequestMeter();
    meter.attachAll(conn.aws);
    const tallyFile = join(dir, "agent.json");
    let runDir = "";
    try {
      const { endpoint } = await conn.control.call("registerEndpoint", {
        name: `cost-${Math.random().toString(36).slice(2, 8)}`,
      });
      const agent = spawnAgent({
        endpointId: endpoint.endpointId,
        env: ferryEnv(),
        requestMeterFile: tallyFile,
      });
      try {
        await waitForEndpointsOnline(conn.control, [endpoint.endpointId], 60_000);
        // Rewritten every 5 s while the agent runs: its heartbeats show up there.
        await vi.waitFor(
          async () => {
            const tally = RequestTally.parse(JSON.parse(await readFile(tallyFile, "utf8")));
            expect(Object.keys(tally.services.lambda ?? {})).not.toHaveLength(0);
          },
          { timeout: 30_000, interval: 250 },
        );
      } finally {
        await agent.stop(10_000);
      }
      // Written once more as it stopped: with the long poll that draining cut short.
      const final = RequestTally.parse(JSON.parse(await readFile(tallyFile, "utf8")));
      expect(final.services.sqs?.ReceiveMessage?.calls).toBeGreaterThan(0);
      await conn.aws.s3.send(
        new PutObjectCommand({
          Bucket: conn.deployment.bucketName,
          Key: `tmp/cost-test/${endpoint.endpointId}`,
          Body: Buffer.alloc(100_000, 1),
        }),
      );
      runDir = await mkdtemp(join(dir, "run-"));
      await writeClientRequests(runDir, meter);
      await addAgentTallies(runDir, [{ name: "cost-agent", path: tallyFile }]);
    } finally {
      conn.close();
    }
    // The agent's final tally (written as it stopped) has its heartbeats to the control plane.
    const run = await readRunRequests(runDir);
    expect(run.agents[0]?.tally.services.lambda).toBeDefined();
    expect(run.notCounted.some((n) => n.startsWith("the agents'"))).toBe(false);

    const human = await runFerry(["campaign", "cost", runDir]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/SQS\s+ReceiveMessage/);
    expect(human.stdout).toMatch(/S3\s+PUT, COPY, POST, LIST\s+1\s/);
    expect(human.stdout).toMatch(/total \$[\d.]+ for the client and agents cost-agent/);
    expect(human.stdout).toContain("prices: us-east-1 list prices in USD, checked 2026-12-01");

    const json = await runFerryJson<CostJson>(["campaign", "cost", runDir]);
    expect(json.totalDollars).toBeGreaterThan(0);
    expect(json.agents).toEqual(["cost-agent"]);
    const sqsDollars = json.lines
      .filter((l) => l.service === "SQS")
      .reduce((a, l) => a + l.dollars, 0);

    // An edited table: SQS at ten times the price moves only the SQS lines, tenfold.
    const prices = JSON.parse(await readFile(DEFAULT_PRICES_PATH, "utf8"));
    prices.sqs.standardPerMillionRequests *= 10;
    const edited = join(dir, "prices.json");
    await writeFile(edited, JSON.stringify(prices));
    const dearer = await runFerryJson<CostJson>(["campaign", "cost", runDir, "--prices", edited]);
    expect(dearer.totalDollars).toBeCloseTo(json.totalDollars + 9 * sqsDollars, 12);
  });

  it("says what to do for a directory without counts and for a bad price table", async () => {
    const empty = await mkdtemp(join(dir, "empty-"));
    const missing = await runFerry(["campaign", "cost", empty]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`no aws-requests.json in ${empty}`);
    expect(missing.stderr).toContain("ferry demo");
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);

    const runDir = await mkdtemp(join(dir, "run-"));
    await writeClientRequests(runDir, new RequestMeter());
    const bad = join(dir, "bad-prices.json");
    await writeFile(bad, JSON.stringify({ region: "us-east-1" }));
    const refused = await runFerry(["campaign", "cost", runDir, "--prices", bad]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`price table ${bad}`);
    expect(refused.stderr).toContain("edit its numbers");
  });
});
