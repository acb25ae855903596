// Compares surrogate variants on held-out molecules of an oracle file (measure before choosing):
//   node bench/science-models.ts <oracle file> [--train 1000] [--test 1000] [--splits 3]
import { parseArgs } from "node:util";
import { loadRDKit } from "../campaigns/ipopt/chem/rdkit.ts";
import { readOracle } from "../campaigns/ipopt/data/oracle.ts";
import { createRandom, shuffled } from "../campaigns/ipopt/data/random.ts";
import {
  type EnsembleOptions,
  type FingerprintOptions,
  morganFingerprints,
  selectRows,
  tanimotoMatrix,
} from "../campaigns/ipopt/model/index.ts";
import { holdout } from "./science-holdout.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    train: { type: "string", default: "1000" },
    test: { type: "string", default: "1000" },
    splits: { type: "string", default: "3" },
  },
});
const path = positionals[0];
if (path === undefined) throw new Error("usage: node bench/science-models.ts <oracle file>");
const oracle = await readOracle(path);
const smiles = oracle.molecules.map((m) => m.smiles);
const ip = Float64Array.from(oracle.molecules, (m) => m.ip);
const n = ip.length;
const trainSize = Math.min(Number(values.train), Math.floor(n * 0.7));
const testSize = Math.min(Number(values.test), n - trainSize);
const splits = Number(values.splits);
const rdkit = await loadRDKit();
const fps = morganFingerprints(rdkit, smiles);
console.log(`${path}: ${n} molecules; ${trainSize} train, ${testSize} test, ${splits} splits`);

const plainBits: FingerprintOptions = { nBits: 2048, counts: false };
const variants: [string, EnsembleOptions, FingerprintOptions?][] = [
  ["GP, 1 member (all data)", { members: 1 }],
  ["GP ensemble, 8 members x 80 %", { members: 8, subsample: 0.8 }],
  ["GP ensemble, 8 members x 90 %", { members: 8, subsample: 0.9 }],
  ["GP ensemble, 8 members x 50 %", { members: 8, subsample: 0.5 }],
  ["GP, 1 member, plain 2048 bits", { members: 1 }, plainBits],
  ["GP, 1 member, counts, 4096 bits", { members: 1 }, { nBits: 4096 }],
  ["GP, 1 member, counts, radius 2", { members: 1 }, { radius: 2 }],
];
for (const [name, model, fingerprint] of variants) {
  const features = fingerprint ? morganFingerprints(rdkit, smiles, fingerprint) : fps;
  const results = Array.from({ length: splits }, (_, seed) =>
    holdout(smiles, features, ip, { trainSize, testSize, seed, model }),
  );
  const avg = (pick: (r: (typeof results)[number]) => number) =>
    results.reduce((s, r) => s + pick(r), 0) / results.length;
  console.log(
    `${name.padEnd(32)} MAE ${avg((r) => r.maeEv).toFixed(3)} RMSE ${avg((r) => r.rmseEv).toFixed(3)} ` +
      `within 1 std ${(avg((r) => r.withinOneStd) * 100).toFixed(1)} % ` +
      `(mean predictor MAE ${avg((r) => r.meanPredictorMaeEv).toFixed(3)}) ${avg((r) => r.seconds).toFixed(1)} s`,
  );
}

// Baseline without a spread: similarity-weighted mean of the 5 nearest training molecules.
const knn: number[] = [];
for (let seed = 0; seed < splits; seed++) {
  const order = shuffled(
    Array.from({ length: n }, (_, i) => i),
    createRandom(seed),
  );
  const train = order.slice(0, trainSize);
  const test = order.slice(trainSize, trainSize + testSize);
  const sim = tanimotoMatrix(selectRows(fps, test), selectRows(fps, train));
  let mae = 0;
  for (let q = 0; q < test.length; q++) {
    const row = Array.from(sim.subarray(q * train.length, (q + 1) * train.length).entries())
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5);
    const weight = row.reduce((s, [, w]) => s + w, 0) || 1;
    const predicted =
      row.reduce((s, [i, w]) => s + w * (ip[train[i] as number] as number), 0) / weight;
    mae += Math.abs(predicted - (ip[test[q] as number] as number));
  }
  knn.push(mae / test.length);
}
console.log(
  `${"5-nearest neighbours (Tanimoto)".padEnd(32)} MAE ${(knn.reduce((s, x) => s + x, 0) / splits).toFixed(3)}`,
);
