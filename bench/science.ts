// Science benchmark of the ipopt campaign: active learning replayed over an oracle file.
//   npm run bench:science -- <oracle.json.gz | simulations.jsonl> [--seeds 5] [--starts 50]
//     [--batch 10] [--budget-fraction 0.1] [--top-fraction 0.05] [--policies ucb,greedy,random]
//     [--beta 1] [--members 8] [--holdout-train 1000] [--holdout-test 1000]
import { parseArgs } from "node:util";
import { loadRDKit } from "../campaigns/ipopt/chem/rdkit.ts";
import { readOracle } from "../campaigns/ipopt/data/oracle.ts";
import { morganFingerprints, tanimotoMatrix } from "../campaigns/ipopt/model/index.ts";
import { holdout } from "./science-holdout.ts";
import { type Policy, replay } from "./science-replay.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seeds: { type: "string", default: "5" },
    starts: { type: "string", default: "50" },
    batch: { type: "string", default: "10" },
    "budget-fraction": { type: "string", default: "0.1" },
    "top-fraction": { type: "string", default: "0.05" },
    policies: { type: "string", default: "ucb,greedy,random" },
    beta: { type: "string", default: "1" },
    members: { type: "string", default: "8" },
    "holdout-train": { type: "string", default: "1000" },
    "holdout-test": { type: "string", default: "1000" },
  },
});
const path = positionals[0];
if (path === undefined) {
  console.error("usage: npm run bench:science -- <oracle file> [options]");
  process.exit(2);
}
const oracle = await readOracle(path);
const smiles = oracle.molecules.map((m) => m.smiles);
const ip = Float64Array.from(oracle.molecules, (m) => m.ip);
const n = ip.length;
const seeds = Number(values.seeds);
const starts = Number(values.starts);
const batch = Number(values.batch);
const budget = Math.round(n * Number(values["budget-fraction"]));
const topCount = Math.round(n * Number(values["top-fraction"]));
const beta = Number(values.beta);
const model = { members: Number(values.members) };
const policies = (values.policies ?? "").split(",") as Policy[];

const sortedIp = [...ip].sort((a, b) => b - a);
const threshold = sortedIp[topCount - 1] ?? Number.POSITIVE_INFINITY;
const isTop = Uint8Array.from(ip, (value) => (value >= threshold ? 1 : 0));
const p = oracle.provenance;
console.log(`oracle: ${path}: ${n} molecules (${p.method}; computed ${p.computed})`);
console.log("IPs are REPLAYED from this file (lookups), not recomputed with xTB.");
console.log(
  `IP median ${sortedIp[Math.floor(n / 2)]?.toFixed(2)} eV, top ${topCount} (top ${
    Number(values["top-fraction"]) * 100
  } %) have IP >= ${threshold.toFixed(2)} eV, max ${sortedIp[0]?.toFixed(2)} eV`,
);

const started = performance.now();
const rdkit = await loadRDKit();
const fps = morganFingerprints(rdkit, smiles);
const similarity = tanimotoMatrix(fps, fps);
console.log(`fingerprints and ${n} x ${n} Tanimoto matrix: ${seconds(started)} s`);

const trainSize = Math.min(Number(values["holdout-train"]), Math.floor(n * 0.75));
const testSize = Math.min(Number(values["holdout-test"]), n - trainSize);
console.log(
  `\nheld-out error, ${trainSize} training molecules, ${testSize} test, ${model.members} members:`,
);
for (const seed of [0, 1, 2]) {
  const h = holdout(smiles, fps, ip, { trainSize, testSize, seed, model });
  console.log(
    `  split ${seed}: MAE ${h.maeEv.toFixed(3)} eV, RMSE ${h.rmseEv.toFixed(3)} eV ` +
      `(mean predictor MAE ${h.meanPredictorMaeEv.toFixed(3)} eV); |error| <= std for ` +
      `${(h.withinOneStd * 100).toFixed(1)} %; ${h.seconds.toFixed(1)} s`,
  );
}

console.log(
  `\nreplay: ${starts} random starts, batches of ${batch}, budget ${budget}, ${seeds} seeds, ` +
    `beta ${beta}, ${model.members} members; top-${topCount} molecules found:`,
);
const half = Math.ceil((budget / 2 - starts) / batch);
const rows: { policy: Policy; atHalf: number[]; atEnd: number[]; seconds: string }[] = [];
for (const policy of policies) {
  const t = performance.now();
  const atHalf: number[] = [];
  const atEnd: number[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const r = replay(ip, similarity, isTop, { policy, seed, starts, batch, budget, beta, model });
    atHalf.push(r.foundAfter[Math.max(half, 0)] ?? 0);
    atEnd.push(r.foundAfter.at(-1) ?? 0);
  }
  rows.push({ policy, atHalf, atEnd, seconds: seconds(t) });
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const randomRow = rows.find((r) => r.policy === "random");
const expected = (budget * topCount) / n;
console.log(
  `| policy | found at ${starts + half * batch} (mean) | found at ${budget} (mean) | per seed | ` +
    `vs random | vs expected random (${expected.toFixed(1)}) | seconds |`,
);
console.log("|---|---|---|---|---|---|---|");
for (const row of rows) {
  const vsRandom = randomRow ? `${(mean(row.atEnd) / mean(randomRow.atEnd)).toFixed(1)}x` : "-";
  console.log(
    `| ${row.policy} | ${mean(row.atHalf).toFixed(1)} | ${mean(row.atEnd).toFixed(1)} | ` +
      `${row.atEnd.join(" ")} | ${vsRandom} | ${(mean(row.atEnd) / expected).toFixed(1)}x | ${row.seconds} |`,
  );
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}
