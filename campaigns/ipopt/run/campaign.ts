import type { ResultMessage } from "#core/protocol/index.ts";
import type { Executor } from "#sdk/index.ts";
import { readOracle, readSmilesFile } from "../data/index.ts";
import { createRandom, shuffled } from "../data/random.ts";
import type { InferResult, SimulateResult } from "../functions/index.ts";
import type { TrainingRecord } from "../model/index.ts";
import { createMlBackend } from "../mpnn/index.ts";
import { dispatchResults, Flag, ResourceSlots } from "../steering/index.ts";
import type { CampaignOptions } from "./options.ts";
import { combine, type ModelScores, rank } from "./ranking.ts";
import { environmentInfo, RunRecords } from "./records.ts";

/** Names the Node functions are registered under (train and infer: the GP backend's). */
export const FUNCTION_NAMES = {
  simulate: "ipopt-simulate",
  train: "ipopt-train",
  infer: "ipopt-infer",
} as const;

export interface CampaignProgress {
  simulated: number;
  failed: number;
  searchSize: number;
  bestIpEv: number | undefined;
  foundAboveThreshold: number;
  elapsedMs: number;
  updates: number;
}

export interface CampaignHooks {
  /** After each simulate result. */
  onSimulation?(progress: CampaignProgress): void;
  /** A line worth telling the user (model updates, failures). */
  say?(line: string): void;
}

export interface CampaignSummary extends CampaignProgress {
  runDir: string;
  best: { smiles: string; ipEv: number }[];
  tasks: { simulate: number; train: number; infer: number };
}

/**
 * The IP campaign (REFERENCE.md section 1): keeps num-qc-workers simulations in flight, the
 * best queued molecule first; every retrain-frequency successes retrains the ensemble (one
 * train task per model), scores the search space (one infer task per model and chunk), and
 * refills the queue with the top unsearched molecules by UCB. Stops at search-size results.
 */
export async function runIpCampaign(
  executor: Executor,
  endpoints: { qc: string; ml: string },
  options: CampaignOptions,
  hooks: CampaignHooks = {},
): Promise<CampaignSummary> {
  const started = Date.now();
  const say = hooks.say ?? (() => undefined);
  const records = await RunRecords.create(options.out, options.name);
  const { storePolicies, ...params } = options;
  await records.writeJson("run_params.json", { ...params, storePolicies, endpoints });
  await records.writeJson("environment.json", await environmentInfo());

  const fullSpace = await readSmilesFile(options.searchSpace);
  const space = options.searchSpaceLimit ? fullSpace.slice(0, options.searchSpaceLimit) : fullSpace;
  const db: TrainingRecord[] = (await readOracle(options.trainingSet)).molecules.map((m) => ({
    smiles: m.smiles,
    ip: m.ip,
  }));
  const searched = new Set(db.map((m) => m.smiles));
  say(`search space ${space.length} molecules, training set ${db.length}`);
  // The surrogate's train/infer functions and their arguments (--ml-backend gp | mpnn).
  const ml = await createMlBackend({
    backend: options.mlBackend,
    gpFunctions: FUNCTION_NAMES,
    numEpochs: options.numEpochs,
    learningRate: options.learningRate,
    seed: options.seed,
  });

  const stop = new AbortController();
  const slots = new ResourceSlots({ simulate: options.numQcWorkers });
  const queueReady = new Flag();
  const idle = new Flag(); // no model update running
  idle.set();
  const changed = new Flag(); // a simulate result arrived
  let queue: number[] = [];
  let inFlight = 0;
  let simulated = 0;
  let failed = 0;
  let updates = 0;
  const found: { smiles: string; ipEv: number }[] = [];
  const counts = { simulate: 0, train: 0, infer: 0 };

  const progress = (): CampaignProgress => ({
    simulated,
    failed,
    searchSize: options.searchSize,
    bestIpEv: found.reduce<number | undefined>(
      (b, m) => Math.max(b ?? -Infinity, m.ipEv),
      undefined,
    ),
    foundAboveThreshold: found.filter((m) => m.ipEv >= options.thresholdEv).length,
    elapsedMs: Date.now() - started,
    updates,
  });

  // --- the model update: train -> infer per model and chunk -> rank -> refill the queue ---
  const chunks: number[][] = [];
  for (let i = 0; i < space.length; i += options.moleculesPerMlTask) {
    chunks.push(
      Array.from(
        { length: Math.min(options.moleculesPerMlTask, space.length - i) },
        (_, k) => i + k,
      ),
    );
  }
  let update: { trainLeft: number; inferLeft: number; scores: ModelScores[] } | undefined;
  const trainTasks = new Map<string, number>(); // taskId -> model
  const inferTasks = new Map<string, { model: number; chunk: number }>();

  async function startUpdate(): Promise<void> {
    idle.clear();
    updates++;
    const round = updates;
    update = { trainLeft: options.modelCount, inferLeft: 0, scores: [] };
    const trainingSet = [...db];
    say(
      `update ${round}: training ${options.modelCount} models on ${trainingSet.length} molecules`,
    );
    const specs = Array.from({ length: options.modelCount }, (_, model) => ({
      function: ml.functions.train,
      // Each task fits one member on its own 80 % subsample: the ensemble's spread.
      args: ml.trainArgs(
        memberSubset(trainingSet, options.modelCount, options.seed, round, model),
        model,
      ),
      endpointId: endpoints.ml,
      topic: "train",
    }));
    const futures = await executor.submitMany(specs);
    for (const [model, f] of futures.entries()) trainTasks.set(f.taskId, model);
    counts.train += futures.length;
  }

  async function finishUpdate(): Promise<void> {
    const scores = update?.scores.filter(Boolean) ?? [];
    update = undefined;
    if (scores.length > 0) {
      const ranked = rank(combine(scores), {
        policy: options.policy,
        beta: options.beta,
        seed: options.seed + updates,
        exclude: (i) => searched.has(space[i] ?? ""),
      });
      queue = ranked.slice(0, options.searchSize);
      if (queue.length > 0) queueReady.set();
      say(`update ${updates}: queue refilled, top candidate ${space[queue[0] ?? 0]}`);
    } else say(`update ${updates}: no model produced scores; the queue is unchanged`);
    idle.set();
  }

  // --- result processors, one per topic ---
  async function onSimulate(result: ResultMessage): Promise<void> {
    slots.release("simulate");
    inFlight--;
    const smiles = submittedSmiles.get(result.taskId) ?? "";
    let ip: number | undefined;
    let valueFetchMs: number | undefined; // client-side data access, for the report's overheads
    if (result.ok) {
      const fetchStarted = performance.now();
      ip = ((await executor.value(result)) as SimulateResult).ip;
      valueFetchMs = performance.now() - fetchStarted;
    }
    await records.appendTask(result, { smiles, ipEv: ip ?? null, valueFetchMs });
    if (ip === undefined || !Number.isFinite(ip)) {
      failed++;
      say(
        `simulate ${smiles} failed: ${result.ok ? "no IP" : `${result.error.type}: ${result.error.message.split("\n")[0]}`}`,
      );
    } else {
      simulated++;
      db.push({ smiles, ip });
      found.push({ smiles, ipEv: ip });
      await records.appendMolecule(simulated, smiles, ip);
    }
    const now = progress();
    await records.appendLine("progress.jsonl", now);
    hooks.onSimulation?.(now);
    if (simulated >= options.searchSize) return stop.abort();
    if (ip !== undefined && simulated % options.retrainFrequency === 0 && idle.isSet)
      await startUpdate();
    changed.set();
  }

  async function onTrain(result: ResultMessage): Promise<void> {
    const model = trainTasks.get(result.taskId) ?? -1;
    // Fetched before the record is written so that the line carries the fetch time.
    const fetchStarted = performance.now();
    const json = result.ok && update ? await executor.value(result) : undefined;
    const valueFetchMs = json === undefined ? undefined : performance.now() - fetchStarted;
    await records.appendTask(result, { model, round: updates, valueFetchMs });
    if (!update) return;
    update.trainLeft--;
    if (result.ok) {
      const specs = chunks.map((chunk, index) => ({
        function: ml.functions.infer,
        args: ml.inferArgs(json, index, () => chunk.map((i) => space[i] ?? "")),
        endpointId: endpoints.ml,
        topic: "infer",
      }));
      update.inferLeft += specs.length;
      const futures = await executor.submitMany(specs);
      for (const [chunk, f] of futures.entries()) inferTasks.set(f.taskId, { model, chunk });
      counts.infer += futures.length;
      update.scores[model] = {
        mean: new Float64Array(space.length).fill(Number.NaN),
        std: new Float64Array(space.length),
      };
    } else say(`train model ${model} failed: ${result.error.message.split("\n")[0]}`);
    if (update.trainLeft === 0 && update.inferLeft === 0) await finishUpdate();
  }

  async function onInfer(result: ResultMessage): Promise<void> {
    const where = inferTasks.get(result.taskId);
    const scores = where ? update?.scores[where.model] : undefined;
    const fetchStarted = performance.now();
    const value = result.ok && scores ? ((await executor.value(result)) as InferResult) : undefined;
    const valueFetchMs = value === undefined ? undefined : performance.now() - fetchStarted;
    await records.appendTask(result, { ...where, round: updates, valueFetchMs });
    if (!update || !where) return;
    update.inferLeft--;
    if (value && scores) {
      const { mean, std } = value;
      (chunks[where.chunk] ?? []).forEach((i, k) => {
        scores.mean[i] = mean[k] ?? Number.NaN;
        scores.std[i] = std[k] ?? 0;
      });
    }
    if (update.trainLeft === 0 && update.inferLeft === 0) await finishUpdate();
  }

  // --- the submitter: one simulation per free slot, best queued molecule first ---
  const submittedSmiles = new Map<string, string>();
  async function submitter(): Promise<void> {
    while (!stop.signal.aborted) {
      await slots.acquire("simulate", stop.signal);
      // Never more in flight than the simulations still needed.
      while (simulated + inFlight >= options.searchSize) {
        changed.clear();
        await changed.wait(stop.signal);
      }
      await queueReady.wait(stop.signal);
      if (options.pauseDuringUpdate) await idle.wait(stop.signal);
      let index = queue.shift();
      while (index !== undefined && searched.has(space[index] ?? "")) index = queue.shift();
      if (queue.length === 0) queueReady.clear();
      if (index === undefined) {
        slots.release("simulate");
        continue;
      }
      const smiles = space[index] ?? "";
      searched.add(smiles);
      inFlight++;
      const [future] = await executor.submitMany([
        {
          function: FUNCTION_NAMES.simulate,
          args: {
            smiles,
            method: options.qcSpecification,
            walltimeSeconds: options.simulateWalltimeSeconds,
          },
          endpointId: endpoints.qc,
          topic: "simulate",
          walltimeSeconds: options.simulateWalltimeSeconds + 60,
          maxAttempts: 1,
        },
      ]);
      if (future) submittedSmiles.set(future.taskId, smiles);
      counts.simulate++;
    }
  }

  await startUpdate(); // as the seed's 2023 code: train first, then fill the queue
  const quietAbort = (error: unknown) => {
    if (!stop.signal.aborted) throw error;
  };
  const failure = (error: unknown) => {
    stop.abort(error);
    throw error;
  };
  await Promise.all([
    submitter().catch(quietAbort).catch(failure),
    dispatchResults(
      executor.results(),
      { simulate: onSimulate, train: onTrain, infer: onInfer },
      stop.signal,
    ).catch(failure),
  ]);
  // Stop work nobody will read: a model update still running, simulations past the budget.
  const pending = executor.pendingTaskIds();
  if (pending.length > 0) {
    await executor.cancel(pending).catch(() => undefined);
    // Let their Cancelled results arrive before the session's queue goes (agents poll every 5 s).
    const drained = Promise.allSettled(pending.map((id) => executor.result(id)));
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
  }

  const summary: CampaignSummary = {
    ...progress(),
    runDir: records.dir,
    best: [...found].sort((a, b) => b.ipEv - a.ipEv).slice(0, 10),
    tasks: counts,
  };
  await records.writeJson("summary.json", summary);
  return summary;
}

/** Member `model`'s training rows: a seeded 80 % subsample (all rows when there is one model). */
function memberSubset(
  rows: readonly TrainingRecord[],
  modelCount: number,
  seed: number,
  round: number,
  model: number,
): TrainingRecord[] {
  if (modelCount === 1) return [...rows];
  const size = Math.max(2, Math.round(rows.length * 0.8));
  return shuffled(rows, createRandom(seed * 1_000_003 + round * 1_009 + model)).slice(0, size);
}
