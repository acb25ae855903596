// MPNN benchmark: trains and scores with mpnn.py directly (no deployment, no agent), the same
// argv and stdin the shell functions get, to time a GPU host. Needs node, python with torch,
// and this repository (with node_modules, for RDKit).
//   node bench/mpnn.ts [--python python3] [--epochs 512] [--train 1000] [--heldout 1000]
//     [--infer 10000] [--hidden 32] [--steps 8] [--batch-size 32] [--learning-rate 0.001]
//     [--device auto|cpu|cuda] [--threads n] [--seed 0] [--skip-gp]
// Prints one JSON object: timings, device, held-out MAE of the MPNN (and of the GP surrogate).
import { loadRDKit } from "../campaigns/ipopt/chem/rdkit.ts";
import {
  createRandom,
  ORACLE_PATH,
  readOracle,
  readSmilesFile,
  SEARCH_SPACE_PATH,
  shuffled,
} from "../campaigns/ipopt/data/index.ts";
import { infer as inferGp, train as trainGp } from "../campaigns/ipopt/model/index.ts";
import {
  graphBatch,
  type MpnnInferResult,
  type MpnnModelJson,
  type MpnnOptions,
  runMpnnLocally,
} from "../campaigns/ipopt/mpnn/index.ts";
import { benchArgs } from "./args.ts";

const { values } = benchArgs("bench/mpnn", "The options are listed at the top of bench/mpnn.ts", {
  options: {
    python: { type: "string", default: "python3" },
    epochs: { type: "string", default: "512" },
    train: { type: "string", default: "1000" },
    heldout: { type: "string", default: "1000" },
    infer: { type: "string", default: "10000" },
    hidden: { type: "string", default: "32" },
    steps: { type: "string", default: "8" },
    "batch-size": { type: "string", default: "32" },
    "learning-rate": { type: "string", default: "0.001" },
    device: { type: "string", default: "auto" },
    threads: { type: "string" },
    seed: { type: "string", default: "0" },
    "skip-gp": { type: "boolean", default: false },
  },
});
const count = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};

const python = values.python;
const seed = Number(values.seed);
const oracle = shuffled((await readOracle(ORACLE_PATH)).molecules, createRandom(seed));
const trainSize = Math.min(count("train"), oracle.length - 1);
const training = oracle.slice(0, trainSize);
const heldOut = oracle.slice(trainSize, trainSize + count("heldout"));
const space = await readSmilesFile(SEARCH_SPACE_PATH);
const scored = shuffled(space, createRandom(seed + 1)).slice(0, count("infer"));
const options: MpnnOptions = {
  epochs: count("epochs"),
  hidden: count("hidden"),
  steps: count("steps"),
  batchSize: count("batch-size"),
  learningRate: Number(values["learning-rate"]),
  device: values.device as MpnnOptions["device"],
  seed,
  ...(values.threads ? { threads: count("threads") } : {}),
};
const inferOptions = {
  device: options.device,
  ...(options.threads ? { threads: options.threads } : {}),
};

const seconds = (since: number) => Number(((performance.now() - since) / 1000).toFixed(3));
const mae = (predicted: ArrayLike<number>, actual: readonly { ip: number }[]) =>
  actual.reduce((s, m, i) => s + Math.abs((predicted[i] ?? Number.NaN) - m.ip), 0) / actual.length;

const rdkit = await loadRDKit();
let t = performance.now();
const trainGraphs = graphBatch(
  rdkit,
  training.map((m) => m.smiles),
);
const heldOutGraphs = graphBatch(
  rdkit,
  heldOut.map((m) => m.smiles),
);
const scoredGraphs = graphBatch(rdkit, scored);
const graphSeconds = seconds(t);

t = performance.now();
const model = await runMpnnLocally<MpnnModelJson>(python, "train", {
  graphs: trainGraphs,
  ip: training.map((m) => m.ip),
  options,
});
const trainWallSeconds = seconds(t);
const held = await runMpnnLocally<MpnnInferResult>(python, "infer", {
  model,
  graphs: heldOutGraphs,
  options: inferOptions,
});
t = performance.now();
const bulk = await runMpnnLocally<MpnnInferResult>(python, "infer", {
  model,
  graphs: scoredGraphs,
  options: inferOptions,
});
const inferWallSeconds = seconds(t);

const meanIp = training.reduce((s, m) => s + m.ip, 0) / training.length;
let gp: { maeEv: number; trainSeconds: number; inferSeconds: number } | undefined;
if (!values["skip-gp"]) {
  t = performance.now();
  const gpModel = await trainGp(training, { members: 1 });
  const gpTrain = seconds(t);
  t = performance.now();
  const gpHeld = await inferGp(
    gpModel,
    heldOut.map((m) => m.smiles),
  );
  gp = { maeEv: mae(gpHeld.mean, heldOut), trainSeconds: gpTrain, inferSeconds: seconds(t) };
}

console.log(
  JSON.stringify(
    {
      device: model.device,
      inferDevice: bulk.device,
      torch: model.training.torch,
      options,
      train: training.length,
      trainSeconds: model.trainSeconds,
      trainWallSeconds,
      epochsRun: model.training.epochsRun,
      modelJsonBytes: JSON.stringify(model).length,
      infer: scored.length,
      inferSeconds: bulk.inferSeconds,
      inferWallSeconds,
      moleculesPerSecond: Math.round(scored.length / bulk.inferSeconds),
      graphSeconds,
      heldOut: {
        molecules: heldOut.length,
        mpnnMaeEv: Number(mae(held.mean, heldOut).toFixed(4)),
        meanPredictorMaeEv: Number(
          mae(
            heldOut.map(() => meanIp),
            heldOut,
          ).toFixed(4),
        ),
        ...(gp ? { gpMaeEv: Number(gp.maeEv.toFixed(4)) } : {}),
      },
      ...(gp ? { gp: { trainSeconds: gp.trainSeconds, inferSeconds: gp.inferSeconds } } : {}),
    },
    null,
    2,
  ),
);
