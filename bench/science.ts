// Science benchmark of the ipopt campaign: active learning replayed over an oracle file, and the
// surrogates' held-out error, per backend (the GP always; the MPNN ensemble when torch is there).
//   npm run bench:science -- <oracle.json.gz | simulations.jsonl | file.csv | file.tsv>
//     [--seeds 5] [--starts 50] [--batch 10] [--budget-fraction 0.1] [--top-fraction 0.05]
//     [--policies ucb,greedy,random] [--beta 1] [--members 8] [--holdout-train 1000]
//     [--holdout-test 1000] [--backends gp,mpnn] [--python python3] [--mpnn-members 4]
//     [--mpnn-epochs 64] [--mpnn-replay-epochs 32] [--mpnn-batch 50] [--mpnn-seeds 1]
//     [--device auto|cpu|cuda]
// CSV/TSV: a SMILES and an IP (eV) column, a header line or not. A bad line is named (file:line).
import { FerryError } from "#core/errors.ts";
import { loadRDKit } from "../campaigns/ipopt/chem/rdkit.ts";
import { morganFingerprints, tanimotoMatrix } from "../campaigns/ipopt/model/index.ts";
import { graphBatch, type MpnnOptions } from "../campaigns/ipopt/mpnn/index.ts";
import { benchArgs } from "./args.ts";
import { holdout } from "./science-holdout.ts";
import { readScienceInput } from "./science-input.ts";
import { type MpnnEnsembleOptions, mpnnHoldout, replayMpnn, torchDevice } from "./science-mpnn.ts";
import { type Policy, replay } from "./science-replay.ts";

const OPTIONS = {
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
  backends: { type: "string" },
  python: { type: "string", default: "python3" },
  "mpnn-members": { type: "string", default: "4" },
  "mpnn-epochs": { type: "string", default: "64" },
  "mpnn-replay-epochs": { type: "string", default: "32" },
  "mpnn-batch": { type: "string", default: "50" },
  "mpnn-seeds": { type: "string", default: "1" },
  device: { type: "string", default: "auto" },
  "gp-spread": { type: "string", default: "means+within" },
} as const;

const USAGE =
  "usage: npm run bench:science -- <oracle.json[.gz] | .jsonl | .csv | .tsv> [options] (the options are listed at the top of bench/science.ts)";

const { values, positionals } = benchArgs("bench:science", USAGE, {
  allowPositionals: true,
  options: OPTIONS,
});
const path = positionals[0];
if (path === undefined) {
  console.error(USAGE);
  process.exit(2);
}
const oracle = await readScienceInput(path).catch((error: unknown) => {
  // A bad input file is one line that names the line, not a stack.
  if (!(error instanceof FerryError)) throw error;
  console.error(`bench:science: ${error.toOneLine()}`);
  process.exit(2);
});
const smiles = oracle.molecules.map((m) => m.smiles);
const ip = Float64Array.from(oracle.molecules, (m) => m.ip);
const n = ip.length;
const seeds = Number(values.seeds);
const starts = Number(values.starts);
const batch = Number(values.batch);
const budget = Math.round(n * Number(values["budget-fraction"]));
const topCount = Math.max(1, Math.round(n * Number(values["top-fraction"])));
const beta = Number(values.beta);
const model = { members: Number(values.members) };
const policies = (values.policies ?? "").split(",") as Policy[];
const device = torchDevice(values.python);
const backends = (values.backends ?? (device ? "gp,mpnn" : "gp")).split(",");

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
console.log(
  `backends: ${backends.join(", ")} (torch: ${device ?? `not importable by ${values.python}`})`,
);

const trainSize = Math.min(Number(values["holdout-train"]), Math.floor(n * 0.75));
const testSize = Math.min(Number(values["holdout-test"]), n - trainSize);
const expected = (budget * topCount) / n;
const summary: { backend: string; maeEv: number; found: number; seconds: string }[] = [];
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
let randomFound: number | undefined;

if (backends.includes("gp")) await runGp();
if (backends.includes("mpnn")) await runMpnn();

console.log(`\nper backend (enrichment: top-${topCount} found at ${budget} over random's):`);
console.log(
  "| backend | held-out MAE (eV) | UCB found | vs random | vs expected random | seconds |",
);
console.log("|---|---|---|---|---|---|");
for (const row of summary) {
  const vsRandom = randomFound ? `${(row.found / randomFound).toFixed(1)}x` : "-";
  console.log(
    `| ${row.backend} | ${row.maeEv.toFixed(3)} | ${row.found.toFixed(1)} | ${vsRandom} | ` +
      `${(row.found / expected).toFixed(1)}x | ${row.seconds} |`,
  );
}

async function runGp(): Promise<void> {
  const started = performance.now();
  const fps = morganFingerprints(await loadRDKit(), smiles);
  const similarity = tanimotoMatrix(fps, fps);
  console.log(`\nGP: fingerprints and ${n} x ${n} Tanimoto matrix: ${seconds(started)} s`);
  console.log(
    `held-out error, ${trainSize} training molecules, ${testSize} test, ${model.members} members:`,
  );
  const maes: number[] = [];
  for (const seed of [0, 1, 2]) {
    const h = holdout(smiles, fps, ip, { trainSize, testSize, seed, model });
    maes.push(h.maeEv);
    console.log(
      `  split ${seed}: MAE ${h.maeEv.toFixed(3)} eV, RMSE ${h.rmseEv.toFixed(3)} eV ` +
        `(mean predictor MAE ${h.meanPredictorMaeEv.toFixed(3)} eV); |error| <= std for ` +
        `${(h.withinOneStd * 100).toFixed(1)} %; ${h.seconds.toFixed(1)} s`,
    );
  }
  console.log(
    `replay: ${starts} random starts, batches of ${batch}, budget ${budget}, ${seeds} seeds, ` +
      `beta ${beta}, ${model.members} members; top-${topCount} molecules found:`,
  );
  const half = Math.ceil((budget / 2 - starts) / batch);
  console.log(
    `| policy | found at ${starts + half * batch} (mean) | found at ${budget} (mean) | per seed | ` +
      `vs random | vs expected random (${expected.toFixed(1)}) | seconds |`,
  );
  console.log("|---|---|---|---|---|---|---|");
  const rows: { policy: Policy; atHalf: number[]; atEnd: number[]; seconds: string }[] = [];
  for (const policy of policies) {
    const t = performance.now();
    const atHalf: number[] = [];
    const atEnd: number[] = [];
    for (let seed = 0; seed < seeds; seed++) {
      const r = replay(ip, similarity, isTop, {
        ...{ policy, seed, starts, batch, budget, beta, model },
        spread: values["gp-spread"] === "means" ? "means" : "means+within",
      });
      atHalf.push(r.foundAfter[Math.max(half, 0)] ?? 0);
      atEnd.push(r.foundAfter.at(-1) ?? 0);
    }
    rows.push({ policy, atHalf, atEnd, seconds: seconds(t) });
  }
  const random = rows.find((r) => r.policy === "random");
  randomFound = random ? mean(random.atEnd) : undefined;
  for (const row of rows) {
    const vsRandom = randomFound ? `${(mean(row.atEnd) / randomFound).toFixed(1)}x` : "-";
    console.log(
      `| ${row.policy} | ${mean(row.atHalf).toFixed(1)} | ${mean(row.atEnd).toFixed(1)} | ` +
        `${row.atEnd.join(" ")} | ${vsRandom} | ${(mean(row.atEnd) / expected).toFixed(1)}x | ${row.seconds} |`,
    );
  }
  const ucb = rows.find((r) => r.policy === "ucb");
  summary.push({
    backend:
      model.members === 1 ? "gp (1 member, all data)" : `gp (${model.members} members x 80 %)`,
    maeEv: mean(maes),
    found: ucb ? mean(ucb.atEnd) : Number.NaN,
    seconds: seconds(started),
  });
}

async function runMpnn(): Promise<void> {
  if (!device) {
    console.error(`bench:science: the mpnn backend needs torch: ${values.python} cannot import it`);
    process.exit(2);
  }
  const started = performance.now();
  const members = Number(values["mpnn-members"]);
  const train: MpnnOptions = {
    epochs: Number(values["mpnn-epochs"]),
    device: values.device as MpnnOptions["device"],
  };
  const ensemble: MpnnEnsembleOptions = { python: values.python, members, train };
  console.log(
    `\nMPNN (the seed's network, torch on ${device}): ${members} members on all data, ` +
      `${train.epochs} epochs; held-out error, ${trainSize} training molecules, ${testSize} test:`,
  );
  const h = await mpnnHoldout(smiles, ip, { ...ensemble, trainSize, testSize, seed: 0 });
  console.log(
    `  split 0: MAE ${h.maeEv.toFixed(3)} eV; |error| <= spread of member means for ` +
      `${(h.withinOneStd * 100).toFixed(1)} %; epochs run ${h.epochsRun.join(" ")}; ` +
      `train ${h.trainSeconds.toFixed(0)} s; ${seconds(started)} s`,
  );
  const mpnnBatch = Number(values["mpnn-batch"]);
  const mpnnSeeds = Number(values["mpnn-seeds"]);
  const replayTrain = { ...train, epochs: Number(values["mpnn-replay-epochs"]) };
  console.log(
    `replay (ucb): ${starts} random starts, batches of ${mpnnBatch}, budget ${budget}, ` +
      `${mpnnSeeds} seeds, beta ${beta}, ${members} members x ${replayTrain.epochs} epochs:`,
  );
  const graphs = graphBatch(await loadRDKit(), smiles);
  const found: number[] = [];
  for (let seed = 0; seed < mpnnSeeds; seed++) {
    const t = performance.now();
    const r = await replayMpnn(ip, graphs, isTop, {
      seed,
      starts,
      batch: mpnnBatch,
      budget,
      beta,
      ensemble: { ...ensemble, train: replayTrain },
    });
    found.push(r.foundAfter.at(-1) ?? 0);
    console.log(`  seed ${seed}: found ${r.foundAfter.join(" -> ")}; ${seconds(t)} s`);
  }
  summary.push({
    backend: `mpnn (${members} members, all data)`,
    maeEv: h.maeEv,
    found: mean(found),
    seconds: seconds(started),
  });
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}
