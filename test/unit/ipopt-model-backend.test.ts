import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  chooseMlBackend,
  createMlBackend,
  type MpnnModelJson,
  type MpnnTrainArgs,
  readMpnnModelFiles,
} from "../../campaigns/ipopt/mpnn/index.ts";
import { resolveMlBackend } from "../../campaigns/ipopt/run/ml-backend.ts";
import { resolveCampaignOptions } from "../../campaigns/ipopt/run/options.ts";
import { combine } from "../../campaigns/ipopt/run/ranking.ts";

const rows = Array.from({ length: 10 }, (_, i) => ({ smiles: "C".repeat(i + 1), ip: 10 + i }));
const common = {
  gpFunctions: { train: "t", infer: "i" },
  numEpochs: 7,
  learningRate: 0.01,
  seed: 1,
};
const model = (hidden: number): MpnnModelJson => ({
  kind: "mpnn",
  version: 2,
  config: {
    atomFields: [{ name: "element", size: 12 }],
    bondTypes: ["single"],
    hidden,
    steps: 8,
    globalUnits: 4,
    globalHeads: 1,
    outputLayers: [512, 256, 128],
    readout: "sum",
    atomwise: true,
  },
  weights: { "scale.bias": { shape: [1], dtype: "float16", data: "AAA=" } },
  device: "cpu",
  trainSeconds: 1,
  training: {},
});

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("ensemble members as the seed trains them", () => {
  it("every MPNN member sees all rows, with its own seed, re-initialised by default", async () => {
    const mpnn = await createMlBackend({ backend: "mpnn", ...common });
    const a = mpnn.trainArgs(rows, 0, 1) as MpnnTrainArgs;
    const b = mpnn.trainArgs(rows, 3, 1) as MpnnTrainArgs;
    expect(a.ip).toEqual(rows.map((r) => r.ip));
    expect(b.graphs.graphs).toHaveLength(rows.length);
    expect([a.options?.seed, b.options?.seed]).toEqual([1000, 1003]);
    expect(a.options).toMatchObject({ subsample: 1, fromScratch: false, epochs: 7 });
    mpnn.trained(0, model(32));
    // From scratch: the previous weights are not sent again.
    expect((mpnn.trainArgs(rows, 0, 2) as MpnnTrainArgs).initModel).toBeUndefined();
  });

  it("--no-retrain-from-scratch fine-tunes each member from its previous weights", async () => {
    const first = model(16);
    const mpnn = await createMlBackend({
      backend: "mpnn",
      ...common,
      retrainFromScratch: false,
      mpnnModels: [first],
      subsample: 0.5,
    });
    expect((mpnn.trainArgs(rows, 1, 1) as MpnnTrainArgs).initModel).toBe(first);
    const trained = model(16);
    mpnn.trained(1, trained);
    const next = mpnn.trainArgs(rows, 1, 2) as MpnnTrainArgs;
    expect(next.initModel).toBe(trained);
    expect(next.options).toMatchObject({ fromScratch: false, subsample: 0.5 });
  });

  it("model files give the architecture; from scratch their weights stay home", async () => {
    const mpnn = await createMlBackend({
      backend: "mpnn",
      ...common,
      mpnnModels: [model(16), model(24)],
    });
    const args = [0, 1, 2].map((m) => mpnn.trainArgs(rows, m, 1) as MpnnTrainArgs);
    expect(args.map((a) => a.initModel?.config.hidden)).toEqual([16, 24, 16]);
    expect(args[0]?.initModel?.weights).toEqual({});
    expect(args[0]?.options?.fromScratch).toBe(true);
  });

  it("GP members take seeded 80 % subsamples (a lone member all rows)", async () => {
    const gp = await createMlBackend({ backend: "gp", ...common });
    const a = gp.trainArgs(rows, 0, 1) as { trainingSet: unknown[] };
    const b = gp.trainArgs(rows, 1, 1) as { trainingSet: unknown[] };
    expect(a.trainingSet).toHaveLength(8);
    expect(a.trainingSet).not.toEqual(b.trainingSet);
    expect(gp.trainArgs(rows, 0, 1)).toEqual(a);
    const lone = await createMlBackend({ backend: "gp", ...common, modelCount: 1 });
    expect((lone.trainArgs(rows, 0, 1) as { trainingSet: unknown[] }).trainingSet).toHaveLength(10);
  });

  it("UCB's spread for MPNN members is the spread of member means (np.std, as the seed)", () => {
    const zero = new Float64Array(2);
    const scores = combine([
      { mean: Float64Array.of(1, 5), std: zero },
      { mean: Float64Array.of(3, 5), std: zero },
    ]);
    expect(Array.from(scores.mean)).toEqual([2, 5]);
    expect(Array.from(scores.std)).toEqual([1, 0]);
  });
});

describe("--ml-backend auto", () => {
  it("is the MPNN where the ML endpoint's agents report a GPU, else the GP", async () => {
    expect(chooseMlBackend("auto", 2)).toBe("mpnn");
    expect(chooseMlBackend("auto", 0)).toBe("gp");
    expect(chooseMlBackend("auto", undefined)).toBe("gp");
    expect(chooseMlBackend("gp", 4)).toBe("gp");
    const base = resolveCampaignOptions({ qcEndpoint: "c", mlEndpoint: "g", numQcWorkers: 1 });
    expect(base.mlBackend).toBe("auto");
    const control = (agents: { gpus?: number }[]) => ({
      call: async () => ({ agents }) as never,
    });
    const id = "00000000-0000-4000-8000-000000000000";
    expect((await resolveMlBackend(control([{}, { gpus: 1 }]), id, base)).mlBackend).toBe("mpnn");
    expect((await resolveMlBackend(control([{}]), id, base)).mlBackend).toBe("gp");
    const explicit = { ...base, mlBackend: "mpnn" as const };
    expect((await resolveMlBackend(control([]), id, explicit)).mlBackend).toBe("mpnn");
  });
});

describe("--mpnn-model-files", () => {
  it("reads Ferry's JSON models and names a file that is not one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mpnn-files-"));
    dirs.push(dir);
    const good = join(dir, "m0.json");
    await writeFile(good, JSON.stringify(model(32)));
    expect((await readMpnnModelFiles([good]))[0]?.config.hidden).toBe(32);
    const old = join(dir, "old.json");
    await writeFile(old, JSON.stringify({ ...model(32), version: 1 }));
    await expect(readMpnnModelFiles([good, old])).rejects.toThrow(
      `--mpnn-model-files ${old}: not a Ferry MPNN model (version 2): version`,
    );
    const h5 = join(dir, "model.h5");
    await writeFile(h5, "\x89HDF");
    await expect(readMpnnModelFiles([h5])).rejects.toThrow(`--mpnn-model-files ${h5}: `);
  });
});
