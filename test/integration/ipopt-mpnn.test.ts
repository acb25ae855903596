/**
 * The MPNN backend end to end through a real agent: graphs built here, mpnn.py registered as
 * two shell functions run by /usr/bin/python3 (Debian's python3-torch, `bash scripts/setup`),
 * trained on most of the shipped training set and scored on held-out molecules of known IP.
 */

import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointAgent } from "#agent/index.ts";
import type { FunctionRef, ResultMessage } from "#core/protocol/index.ts";
import { createStores, decodePayload } from "#core/store/index.ts";
import { loadRDKit } from "../../campaigns/ipopt/chem/rdkit.ts";
import {
  createRandom,
  ORACLE_PATH,
  readOracle,
  shuffled,
  TRAINING_SET_PATH,
} from "../../campaigns/ipopt/data/index.ts";
import { infer as inferGp, train as trainGp } from "../../campaigns/ipopt/model/index.ts";
import {
  graphBatch,
  type MpnnInferResult,
  type MpnnModelJson,
  type MpnnOptions,
  mpnnArgv,
} from "../../campaigns/ipopt/mpnn/index.ts";
import { resolveMlBackend } from "../../campaigns/ipopt/run/ml-backend.ts";
import { resolveCampaignOptions } from "../../campaigns/ipopt/run/options.ts";
import { type Harness, startHarness, startInProcessAgent } from "./agent-harness.ts";

const PYTHON = "/usr/bin/python3";
const HELD_OUT_FROM_TRAINING_SET = 30;
const HELD_OUT_FROM_ORACLE = 170;
// Small and bounded for a shared 2-core machine: 5 to 15 s of training on one thread.
const OPTIONS: MpnnOptions = { epochs: 100, hidden: 32, steps: 3, threads: 1, seed: 0 };

let h: Harness;
let agent: EndpointAgent;
const fns: Record<"train" | "infer", FunctionRef> = {} as never;

beforeAll(async () => {
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import torch (${(probe.error?.message ?? probe.stderr).trim().split("\n").at(-1)}): run \`bash scripts/setup\` (installs python3-torch)`,
    );
  }
  h = await startHarness();
  h.results.start();
  // Models go through the proxy store as in a campaign (train results past 10 kB by reference).
  agent = await startInProcessAgent(h, {
    workers: 1,
    pollWaitSeconds: 1,
    storePolicies: { train: { backend: "s3", thresholdBytes: 10_000 } },
  });
  fns.train = await h.registerShell("ipopt-train-mpnn", mpnnArgv(PYTHON, "train"));
  fns.infer = await h.registerShell("ipopt-infer-mpnn", mpnnArgv(PYTHON, "infer"));
});

afterAll(async () => {
  await agent?.close();
  await h?.close();
});

async function run<T>(fn: FunctionRef, args: unknown, topic: string): Promise<T> {
  const taskId = await h.sendTask(fn, args, { topic, walltimeSeconds: 600 });
  const result: ResultMessage = await h.results.waitFor(taskId, 300_000);
  if (!result.ok) {
    throw new Error(`${result.error.type}: ${result.error.message}\n${result.stderrTail ?? ""}`);
  }
  return (await decodePayload(
    result.value,
    createStores({ s3: { client: h.aws.s3, bucket: h.bucket } }),
  )) as T;
}

const mae = (predicted: ArrayLike<number>, actual: readonly number[]) =>
  actual.reduce((sum, y, i) => sum + Math.abs((predicted[i] ?? Number.NaN) - y), 0) / actual.length;

describe("ipopt MPNN as shell functions on a real agent", () => {
  it("trains on the training set and beats the mean predictor on held-out molecules", async () => {
    const rdkit = await loadRDKit();
    const shipped = shuffled((await readOracle(TRAINING_SET_PATH)).molecules, createRandom(1));
    const training = shipped.slice(HELD_OUT_FROM_TRAINING_SET);
    const heldOut = [
      ...shipped.slice(0, HELD_OUT_FROM_TRAINING_SET),
      ...shuffled((await readOracle(ORACLE_PATH)).molecules, createRandom(2)).slice(
        0,
        HELD_OUT_FROM_ORACLE,
      ),
    ];
    const actual = heldOut.map((m) => m.ip);

    const model = await run<MpnnModelJson>(
      fns.train,
      {
        graphs: graphBatch(
          rdkit,
          training.map((m) => m.smiles),
        ),
        ip: training.map((m) => m.ip),
        options: OPTIONS,
      },
      "train",
    );
    expect(model).toMatchObject({ kind: "mpnn", device: "cpu", config: { hidden: 32 } });
    expect(model.trainSeconds).toBeGreaterThan(0);

    const scores = await run<MpnnInferResult>(
      fns.infer,
      {
        model,
        graphs: graphBatch(
          rdkit,
          heldOut.map((m) => m.smiles),
        ),
        options: { threads: 1 },
      },
      "infer",
    );
    expect(scores.device).toBe("cpu");
    expect(scores.mean).toHaveLength(heldOut.length);
    expect(scores.std).toEqual(Array(heldOut.length).fill(0));
    expect(scores.mean.every(Number.isFinite)).toBe(true);

    const meanIp = training.reduce((s, m) => s + m.ip, 0) / training.length;
    const mpnnMae = mae(scores.mean, actual);
    const baselineMae = mae(Array(actual.length).fill(meanIp), actual);
    // The CPU surrogate on the same split, one member as one campaign train task fits.
    const gp = await trainGp(training, { members: 1 });
    const gpMae = mae(
      (
        await inferGp(
          gp,
          heldOut.map((m) => m.smiles),
        )
      ).mean,
      actual,
    );
    console.log(
      `held-out MAE (train ${training.length}, held out ${heldOut.length}, ${model.training.epochsRun}/${OPTIONS.epochs} epochs, hidden ${OPTIONS.hidden}, ${model.trainSeconds} s): ` +
        `MPNN ${mpnnMae.toFixed(3)} eV, GP ${gpMae.toFixed(3)} eV, mean predictor ${baselineMae.toFixed(3)} eV`,
    );
    expect(mpnnMae).toBeLessThan(baselineMae);
  });

  it("the seed's network goes through the store, and fine-tunes from the model it returned", async () => {
    const rdkit = await loadRDKit();
    const molecules = (await readOracle(TRAINING_SET_PATH)).molecules.slice(0, 40);
    const graphs = graphBatch(
      rdkit,
      molecules.map((m) => m.smiles),
    );
    const ip = molecules.map((m) => m.ip);
    // The default architecture (8 steps, 512/256/128 readout): about 0.8 MB of JSON, in the store.
    const first = await run<MpnnModelJson>(
      fns.train,
      { graphs, ip, options: { epochs: 2, threads: 1 } },
      "train",
    );
    expect(first.config).toMatchObject({ steps: 8, outputLayers: [512, 256, 128], readout: "sum" });
    expect(first.weights["scale.weight"]?.dtype).toBe("float16");
    expect(JSON.stringify(first).length).toBeGreaterThan(500_000);
    expect(first.training).toMatchObject({ start: "initialised", epochsRun: 2 });
    const tuned = await run<MpnnModelJson>(
      fns.train,
      { graphs, ip, initModel: first, options: { epochs: 1, threads: 1, seed: 1 } },
      "train",
    );
    expect(tuned.training).toMatchObject({ start: "fine-tuned", epochsRun: 1 });
    // From scratch keeps the starting model's architecture, not its weights.
    const small = { ...first, config: { ...first.config, steps: 2 }, weights: {} };
    const fresh = await run<MpnnModelJson>(
      fns.train,
      { graphs, ip, initModel: small, options: { epochs: 1, threads: 1, fromScratch: true } },
      "train",
    );
    expect(fresh.config.steps).toBe(2);
    expect(fresh.training).toMatchObject({ start: "initialised" });
    const scores = await run<MpnnInferResult>(
      fns.infer,
      { model: tuned, graphs, options: { threads: 1 } },
      "infer",
    );
    expect(scores.mean.every(Number.isFinite)).toBe(true);
  });

  it("--ml-backend auto is the GP until an agent of the ML endpoint reports a GPU", async () => {
    const options = resolveCampaignOptions({ qcEndpoint: "c", mlEndpoint: "g", numQcWorkers: 1 });
    const choice = async () => (await resolveMlBackend(h.control, h.endpointId, options)).mlBackend;
    // The agent above names no gpuIds: its heartbeats, through the registration handler, say 0.
    expect(h.heartbeats.at(-1)?.gpus).toBe(0);
    expect(await choice()).toBe("gp");
    const gpuAgent = await startInProcessAgent(h, {
      workers: 1,
      gpuIds: ["0"],
      pollWaitSeconds: 1,
    });
    try {
      const deadline = Date.now() + 60_000;
      while ((await choice()) !== "mpnn" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await choice()).toBe("mpnn");
      expect(h.heartbeats.some((b) => b.gpus === 1)).toBe(true);
    } finally {
      await gpuAgent.close();
    }
    // Its last heartbeat says it stopped: its GPU no longer counts.
    expect(await choice()).toBe("gp");
    expect(
      await resolveMlBackend(h.control, h.endpointId, { ...options, mlBackend: "mpnn" }),
    ).toMatchObject({ mlBackend: "mpnn" });
  });

  it("bad arguments fail the task with a one-line reason on stderr", async () => {
    const taskId = await h.sendTask(fns.infer, { model: { kind: "gp" }, graphs: {} });
    const result = await h.results.waitFor(taskId, 120_000);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.type).toBe("FunctionError");
    expect(result.stderrTail).toContain("mpnn infer: bad arguments: model must be a mpnn model");
  });
});
