// The IP campaign through the real path: the suite's deployment, `ferry campaign run ipopt`
// as a child process, and two real agents running obabel + xtb, train and infer.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointRecord } from "#core/protocol/index.ts";
import { type AgentProcess, spawnAgent } from "#local/index.ts";
import { ferryEnv, runFerry, runFerryJson } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const agents: AgentProcess[] = [];
const endpoints: Record<"qc" | "ml", string> = { qc: "", ml: "" };
let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "ferry-campaign-"));
  for (const role of ["qc", "ml"] as const) {
    const endpoint = await runFerryJson<EndpointRecord>([
      "endpoint",
      "register",
      `campaign-${role}-${suffix}`,
    ]);
    endpoints[role] = endpoint.endpointId;
    agents.push(spawnAgent({ endpointId: endpoint.endpointId, env: ferryEnv() }));
  }
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop(10_000)));
  await rm(outDir, { recursive: true, force: true });
});

const lines = async (dir: string, file: string) =>
  (await readFile(join(dir, file), "utf8")).split("\n").filter((l) => l.trim() !== "");

describe("ferry campaign run ipopt", () => {
  it("runs a tiny campaign and writes the run directory", async () => {
    const searchSize = 6;
    const run = await runFerry(
      [
        "campaign",
        "run",
        "ipopt",
        "--qc-endpoint",
        endpoints.qc,
        "--ml-endpoint",
        endpoints.ml,
        "--num-qc-workers",
        "2",
        "--model-count",
        "2",
        "--search-space-limit",
        "300",
        "--molecules-per-ml-task",
        "150",
        "--search-size",
        String(searchSize),
        "--retrain-frequency",
        "3",
        "--ps-threshold",
        "2000",
        "--name",
        "e2e",
        "--out",
        outDir,
      ],
      { timeoutMs: 280_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("best molecules found");

    const [runName] = await readdir(outDir);
    expect(runName).toMatch(/^e2e-\d{4}-/);
    const dir = join(outDir, runName ?? "");
    const params = JSON.parse(await readFile(join(dir, "run_params.json"), "utf8"));
    expect(params).toMatchObject({ searchSize, modelCount: 2, policy: "ucb" });
    const environment = JSON.parse(await readFile(join(dir, "environment.json"), "utf8"));
    expect(environment.node).toBe(process.version);

    const simulations = (await lines(dir, "simulation-results.jsonl")).map((l) => JSON.parse(l));
    // A task can succeed and still give no IP: a relaxation that changed the molecule.
    const succeeded = simulations.filter((s) => s.ok && s.ipEv !== null);
    expect(succeeded).toHaveLength(searchSize);
    for (const s of simulations.filter((s) => s.ipEv === null)) expect(s.failure).toMatch(/\w/);
    for (const s of succeeded) {
      expect(s.ipEv).toBeGreaterThan(5);
      expect(s.ipEv).toBeLessThan(20);
      expect(s.timings.started).toBeGreaterThan(0);
      expect(s.worker.endpointId).toBe(endpoints.qc);
    }
    // The first update (2 models, 300 molecules in 2 chunks each) completes before any
    // simulation; the one after 3 results may be cut short when the run ends.
    const training = await lines(dir, "training-results.jsonl");
    expect(training.length).toBeGreaterThanOrEqual(2);
    const inference = await lines(dir, "inference-results.jsonl");
    expect(inference.length).toBeGreaterThanOrEqual(4);
    expect(JSON.parse(inference[0] ?? "{}").worker.endpointId).toBe(endpoints.ml);
    expect(await lines(dir, "progress.jsonl")).toHaveLength(simulations.length);
    const molecules = await lines(dir, "molecules.csv");
    expect(molecules).toHaveLength(searchSize + 1); // header

    // What it cost: the client's AWS requests (aws-requests.json), priced in dollars.
    const requests = JSON.parse(await readFile(join(dir, "aws-requests.json"), "utf8"));
    expect(requests.client.services.sqs.ReceiveMessage.calls).toBeGreaterThan(0);
    expect(requests.client.services.s3).toBeDefined(); // train results go by reference
    const cost = await runFerry(["campaign", "cost", dir]);
    expect(cost.code, cost.stderr).toBe(0);
    expect(cost.stdout).toMatch(/^total \$0\.\d+ for the client$/m);
  }, 300_000);

  it("stops, having searched every molecule, when every simulation fails", async () => {
    // xtb has no parameters past radon: each of these fails in a fraction of a second, so no
    // success ever triggers a retrain and the queue runs dry with nothing in flight.
    const space = ["C[U]C", "CC[U]CC", "O[U]O", "N[U]N", "C[Og]C", "CC[Og]"];
    const dir = await mkdtemp(join(tmpdir(), "ferry-campaign-dry-"));
    try {
      await writeFile(join(dir, "space.smi"), `${space.join("\n")}\n`);
      const run = await runFerry(
        [
          "campaign",
          "run",
          "ipopt",
          ...["--qc-endpoint", endpoints.qc, "--ml-endpoint", endpoints.ml],
          ...["--num-qc-workers", "2", "--model-count", "2", "--molecules-per-ml-task", "3"],
          ...["--search-space", join(dir, "space.smi"), "--search-size", "20"],
          ...["--retrain-frequency", "2", "--name", "dry", "--out", join(dir, "runs")],
        ],
        { timeoutMs: 150_000 }, // the old campaign waited here forever
      );
      const hung = `no exit within 150 s (the queue ran dry and it waited?)\n${run.stdout}`;
      expect(run.code, run.stderr || hung).toBe(0);
      const reason = "searched all 6 molecules of the search space: stopping at 0 results";
      expect(run.stdout).toContain(reason);
      const [runName] = await readdir(join(dir, "runs"));
      const runDir = join(dir, "runs", runName ?? "");
      const summary = JSON.parse(await readFile(join(runDir, "summary.json"), "utf8"));
      expect(summary).toMatchObject({ simulated: 0, failed: 6, stopReason: reason });
      const simulations = (await lines(runDir, "simulation-results.jsonl")).map((l) =>
        JSON.parse(l),
      );
      expect(simulations.map((s) => s.smiles).sort()).toEqual([...space].sort());
      expect(
        simulations.every((s) => !s.ok && s.error.message.includes("unsupported element")),
      ).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
