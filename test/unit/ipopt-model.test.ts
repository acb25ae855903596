import { describe, expect, it } from "vitest";
import { loadRDKit } from "../../campaigns/ipopt/chem/rdkit.ts";
import inferFunction from "../../campaigns/ipopt/functions/infer.ts";
import trainFunction from "../../campaigns/ipopt/functions/train.ts";
import {
  fitGp,
  infer,
  modelFromJson,
  modelToJson,
  morganFingerprints,
  predictGp,
  tanimotoMatrix,
  train,
} from "../../campaigns/ipopt/model/index.ts";
import { choleskyInPlace, forwardSolve } from "../../campaigns/ipopt/model/linalg.ts";

const molecules = [
  { smiles: "CCO", ip: 10.9 },
  { smiles: "CCCO", ip: 10.6 },
  { smiles: "CCCCO", ip: 10.4 },
  { smiles: "CC(C)O", ip: 10.5 },
  { smiles: "CC#N", ip: 12.5 },
  { smiles: "CCC#N", ip: 12.1 },
  { smiles: "FC(F)F", ip: 14.8 },
  { smiles: "FC(F)(F)C", ip: 14.2 },
  { smiles: "C1CC1", ip: 11.0 },
  { smiles: "C1CCC1", ip: 10.8 },
  { smiles: "NCCN", ip: 9.3 },
  { smiles: "CN(C)C", ip: 8.9 },
];

describe("Morgan fingerprints and Tanimoto similarity", () => {
  it("packs 2048 bits into 64 words and matches the bits RDKit sets", async () => {
    const rdkit = await loadRDKit();
    const fps = morganFingerprints(rdkit, ["CCO", "c1ccccc1O"], {
      radius: 2,
      nBits: 2048,
      counts: false,
    });
    expect(fps.words.length).toBe(2 * 64);
    const mol = rdkit.get_mol("CCO");
    const bits = mol?.get_morgan_fp(JSON.stringify({ radius: 2, nBits: 2048 })) ?? "";
    mol?.delete();
    expect(fps.popcounts[0]).toBe([...bits].filter((b) => b === "1").length);
    for (let i = 0; i < 2048; i++) {
      const set = (((fps.words[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1;
      expect(set).toBe(bits[i] === "1");
    }
  });

  it("by default sets RDKit's count-simulation bits, more for repeated environments", async () => {
    const rdkit = await loadRDKit();
    const fps = morganFingerprints(rdkit, ["CCCCCCCC", "CC"]);
    expect(fps).toMatchObject({ nBits: 8192, radius: 1, counts: true });
    const mol = rdkit.get_mol("CCCCCCCC");
    const details = { radius: 1, nBits: 8192, useCountSimulation: true };
    const bits = mol?.get_morgan_fp(JSON.stringify(details)) ?? "";
    const plain = mol?.get_morgan_fp(JSON.stringify({ ...details, useCountSimulation: false }));
    mol?.delete();
    for (let i = 0; i < 8192; i++) {
      expect((((fps.words[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1).toBe(bits[i] === "1");
    }
    // Octane: 6 CH2 and 2 CH3 environments set more than one bit each; plain bits one each.
    const ones = (text: string) => [...text].filter((b) => b === "1").length;
    expect(fps.popcounts[0]).toBe(ones(bits));
    expect(ones(bits)).toBeGreaterThan(ones(plain ?? ""));
  });

  it("computes the same Tanimoto values as a bit-by-bit count", async () => {
    const rdkit = await loadRDKit();
    const fps = morganFingerprints(
      rdkit,
      molecules.map((m) => m.smiles),
    );
    const t = tanimotoMatrix(fps, fps);
    const perRow = fps.nBits / 32;
    const bit = (row: number, i: number) =>
      ((fps.words[row * perRow + (i >>> 5)] ?? 0) >>> (i & 31)) & 1;
    for (let a = 0; a < fps.count; a++) {
      for (let b = 0; b < fps.count; b++) {
        let common = 0;
        let union = 0;
        for (let i = 0; i < fps.nBits; i++) {
          common += bit(a, i) & bit(b, i);
          union += bit(a, i) | bit(b, i);
        }
        expect(t[a * fps.count + b]).toBeCloseTo(common / union, 12);
      }
    }
  });

  it("gives 1 on the diagonal, symmetry and values in [0, 1]", async () => {
    const rdkit = await loadRDKit();
    const fps = morganFingerprints(
      rdkit,
      molecules.map((m) => m.smiles),
    );
    const t = tanimotoMatrix(fps, fps);
    const n = fps.count;
    for (let i = 0; i < n; i++) {
      expect(t[i * n + i]).toBe(1);
      for (let j = 0; j < n; j++) {
        expect(t[i * n + j]).toBe(t[j * n + i]);
        expect(t[i * n + j]).toBeGreaterThanOrEqual(0);
        expect(t[i * n + j]).toBeLessThanOrEqual(1);
      }
    }
  });

  it("rejects a SMILES RDKit cannot read, naming it", async () => {
    const rdkit = await loadRDKit();
    expect(() => morganFingerprints(rdkit, ["CCO", "C1CC"])).toThrow(/C1CC/);
  });
});

describe("Gaussian process", () => {
  it("Cholesky reproduces the matrix and solves", () => {
    const a = Float64Array.from([4, 2, 0.4, 2, 5, 1, 0.4, 1, 3]);
    const l = a.slice();
    choleskyInPlace(l, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = 0;
        for (let k = 0; k <= j; k++) sum += (l[i * 3 + k] ?? 0) * (l[j * 3 + k] ?? 0);
        expect(sum).toBeCloseTo(a[i * 3 + j] ?? 0, 10);
      }
    }
    const x = forwardSolve(l, 3, [1, 2, 3]);
    expect((l[0] ?? 0) * (x[0] ?? 0)).toBeCloseTo(1, 10);
  });

  it("interpolates its training data with little noise and is unsure far away", () => {
    // Two clusters: similarity 0.9 inside each, 0 between, plus a query unlike both.
    const n = 4;
    const sim = Float64Array.from([1, 0.9, 0, 0, 0.9, 1, 0, 0, 0, 0, 1, 0.9, 0, 0, 0.9, 1]);
    const member = fitGp(sim, [10, 10.2, 14, 14.1], { noiseRatios: [0.01] });
    const cross = Float64Array.from([1, 0.9, 0, 0, 0, 0, 0, 0]);
    const p = predictGp(member, sim, cross, 2);
    expect(p.mean[0]).toBeCloseTo(10, 0);
    expect(p.mean[1]).toBeCloseTo(member.meanEv, 6);
    expect(p.variance[1] ?? 0).toBeGreaterThan((p.variance[0] ?? 0) * 10);
    expect(member.alpha.length).toBe(n);
  });
});

describe("surrogate train / infer", () => {
  it("predicts the training molecules closely and ranks fluorinated ones high", async () => {
    const model = await train(molecules, { members: 4, seed: 1 });
    const p = await infer(model, ["FC(F)(F)CF", "CCCCCO", "CCO"]);
    expect(p.mean.length).toBe(3);
    expect(p.mean[0] ?? 0).toBeGreaterThan(p.mean[1] ?? 0);
    expect(Math.abs((p.mean[2] ?? 0) - 10.9)).toBeLessThan(0.8);
    for (const s of p.std) expect(s).toBeGreaterThan(0);
  });

  it("is deterministic and survives JSON", async () => {
    const a = await train(molecules, { members: 3, seed: 5 });
    const b = await train(molecules, { members: 3, seed: 5 });
    expect(modelToJson(a)).toEqual(modelToJson(b));
    const json = JSON.parse(JSON.stringify(modelToJson(a)));
    const restored = modelFromJson(json);
    const query = ["CCN", "OCCO"];
    const direct = await infer(a, query);
    const roundTrip = await infer(restored, query);
    expect([...roundTrip.mean]).toEqual([...direct.mean]);
    expect([...roundTrip.std]).toEqual([...direct.std]);
    expect(() => modelFromJson({ ...json, kind: "mlp" })).toThrow(/tanimoto-gp-ensemble/);
  });

  it("reads a model saved before count fingerprints as plain bits", async () => {
    const plain = await train(molecules, { members: 2, nBits: 2048, counts: false });
    const json = JSON.parse(JSON.stringify(modelToJson(plain)));
    delete json.fingerprint.counts;
    const restored = modelFromJson(json);
    expect(restored.fingerprint.counts).toBe(false);
    const query = ["CCN", "OCCO"];
    expect([...(await infer(restored, query)).mean]).toEqual([...(await infer(plain, query)).mean]);
    const counted = await infer(await train(molecules, { members: 2, nBits: 2048 }), query);
    expect([...counted.mean]).not.toEqual([...(await infer(plain, query)).mean]);
  });

  it("runs as Ferry functions with JSON arguments and results", async () => {
    const model = await trainFunction({ trainingSet: molecules, options: { members: 2 } });
    const text = JSON.stringify(model);
    const result = await inferFunction({ model: JSON.parse(text), smiles: ["CCO", "CCF"] });
    expect(result.mean).toHaveLength(2);
    expect(result.std).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    await expect(trainFunction({} as never)).rejects.toThrow(/trainingSet/);
  });
});
