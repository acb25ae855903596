// The model-update agent: train -> infer per model and chunk -> rank -> refill the queue.
import type { ResultMessage } from "#core/protocol/index.ts";
import type { Executor } from "#sdk/index.ts";
import type { InferResult } from "../functions/index.ts";
import type { MlBackend } from "../mpnn/index.ts";
import { Flag } from "../steering/index.ts";
import { combine, type ModelScores, rank } from "./ranking.ts";
import type { CampaignContext } from "./types.ts";

/**
 * How a model update ended: a fresh ranking for the queue (empty once every molecule was
 * searched), or no model scored anything (every train task, or every infer task, failed).
 */
export type UpdateOutcome = { kind: "ranked"; queue: number[] } | { kind: "unscored" };

/** The update in progress: tasks still out, and each trained model's scores so far. */
interface Round {
  trainLeft: number;
  inferLeft: number;
  scores: ModelScores[];
}

/**
 * Runs one model update at a time: one train task per ensemble member, then for each trained
 * member one infer task per chunk of the search space; when the last task is in, ranks the
 * space and refills the queue. `idle` is set while no update runs.
 */
export class ModelUpdater {
  /** Set while no model update runs. */
  readonly idle = new Flag();
  readonly #ctx: CampaignContext;
  readonly #ml: MlBackend;
  readonly #chunks: number[][];
  readonly #trainTasks = new Map<string, number>(); // taskId -> model
  readonly #inferTasks = new Map<string, { model: number; chunk: number }>();
  #round: Round | undefined;

  constructor(ctx: CampaignContext, ml: MlBackend) {
    this.#ctx = ctx;
    this.#ml = ml;
    this.#chunks = chunkIndices(ctx.state.space.length, ctx.options.moleculesPerMlTask);
    this.idle.set();
  }

  /** Starts an update: one train task per member on the rows known now (the backend picks a member's rows). */
  async start(): Promise<void> {
    const { executor, endpoints, options, state } = this.#ctx;
    this.idle.clear();
    state.updates++;
    const round = state.updates;
    this.#round = { trainLeft: options.modelCount, inferLeft: 0, scores: [] };
    const trainingSet = [...state.db];
    this.#ctx.say(
      `update ${round}: training ${options.modelCount} models on ${trainingSet.length} molecules`,
    );
    const specs = Array.from({ length: options.modelCount }, (_, model) => ({
      function: this.#ml.functions.train,
      args: this.#ml.trainArgs(trainingSet, model, round),
      endpointId: endpoints.ml,
      topic: "train",
    }));
    const futures = await executor.submitMany(specs);
    for (const [model, f] of futures.entries()) this.#trainTasks.set(f.taskId, model);
    state.counts.train += futures.length;
  }

  /**
   * A train result: records it and, if the model trained, sends its infer tasks. Returns how
   * the update ended when this was its last task (undefined while it goes on).
   */
  async onTrain(result: ResultMessage): Promise<UpdateOutcome | undefined> {
    const { records, state } = this.#ctx;
    const model = this.#trainTasks.get(result.taskId) ?? -1;
    // Fetched before the record is written so that the line carries the fetch time.
    const json = await fetchValue(this.#ctx.executor, result, this.#round !== undefined);
    await records.appendTask(result, { model, round: state.updates, valueFetchMs: json.ms });
    const round = this.#round;
    if (!round) return undefined;
    round.trainLeft--;
    if (result.ok) {
      // Kept by the backend when the next update fine-tunes from it.
      this.#ml.trained(model, json.value);
      await this.#startInference(round, model, json.value);
    } else this.#ctx.say(`train model ${model} failed: ${result.error.message.split("\n")[0]}`);
    return this.#finishIfDone(round);
  }

  /**
   * An infer result: records it and writes its chunk's predictions into the model's scores.
   * Returns how the update ended when this was its last task (undefined while it goes on).
   */
  async onInfer(result: ResultMessage): Promise<UpdateOutcome | undefined> {
    const where = this.#inferTasks.get(result.taskId);
    const scores = where ? this.#round?.scores[where.model] : undefined;
    const fetched = await fetchValue(this.#ctx.executor, result, scores !== undefined);
    const value = fetched.value as InferResult | undefined;
    await this.#ctx.records.appendTask(result, {
      ...where,
      round: this.#ctx.state.updates,
      valueFetchMs: fetched.ms,
    });
    const round = this.#round;
    if (!round || !where) return undefined;
    round.inferLeft--;
    if (value && scores) {
      const { mean, std } = value;
      (this.#chunks[where.chunk] ?? []).forEach((i, k) => {
        scores.mean[i] = mean[k] ?? Number.NaN;
        scores.std[i] = std[k] ?? 0;
      });
    }
    return this.#finishIfDone(round);
  }

  /** One infer task per chunk for a trained model; its scores start unknown (NaN). */
  async #startInference(round: Round, model: number, trained: unknown): Promise<void> {
    const { executor, endpoints, state } = this.#ctx;
    const specs = this.#chunks.map((chunk, index) => ({
      function: this.#ml.functions.infer,
      args: this.#ml.inferArgs(trained, index, () => chunk.map((i) => state.space[i] ?? "")),
      endpointId: endpoints.ml,
      topic: "infer",
    }));
    round.inferLeft += specs.length;
    const futures = await executor.submitMany(specs);
    for (const [chunk, f] of futures.entries()) this.#inferTasks.set(f.taskId, { model, chunk });
    state.counts.infer += futures.length;
    round.scores[model] = {
      mean: new Float64Array(state.space.length).fill(Number.NaN),
      std: new Float64Array(state.space.length),
    };
  }

  /** Ends the round once no train or infer task is out: ranks, refills, goes idle. */
  #finishIfDone(round: Round): UpdateOutcome | undefined {
    if (round.trainLeft !== 0 || round.inferLeft !== 0) return undefined;
    const { state } = this.#ctx;
    this.#round = undefined;
    // A model whose every infer task failed scored nothing: rank only by those that did.
    const outcome = this.#rank(round.scores.filter((m) => m.mean.some(Number.isFinite)));
    if (outcome.kind === "ranked") {
      state.refill(outcome.queue);
      this.#ctx.say(`update ${state.updates}: queue refilled, top candidate ${state.topCandidate}`);
    } else {
      this.#ctx.say(`update ${state.updates}: no model produced scores; the queue is unchanged`);
    }
    this.idle.set();
    return outcome;
  }

  /** The unsearched molecules by the policy's score, at most search-size of them. */
  #rank(scores: ModelScores[]): UpdateOutcome {
    if (scores.length === 0) return { kind: "unscored" };
    const { options, state } = this.#ctx;
    const combined = combine(scores);
    state.setScores(state.updates, combined); // the report's predicted-vs-simulated plot
    const ranked = rank(combined, {
      policy: options.policy,
      beta: options.beta,
      seed: options.seed + state.updates,
      exclude: (i) => state.searched.has(state.space[i] ?? ""),
    });
    return { kind: "ranked", queue: ranked.slice(0, options.searchSize) };
  }
}

/**
 * The result's value, fetched only when it succeeded and is `wanted`, and how long the client
 * took to fetch it (undefined when nothing was fetched).
 */
async function fetchValue(
  executor: Executor,
  result: ResultMessage,
  wanted: boolean,
): Promise<{ value: unknown; ms: number | undefined }> {
  const started = performance.now();
  const value = result.ok && wanted ? await executor.value(result) : undefined;
  return { value, ms: value === undefined ? undefined : performance.now() - started };
}

/** The search space's indices in chunks of `size`, one infer task each. */
function chunkIndices(length: number, size: number): number[][] {
  const chunks: number[][] = [];
  for (let i = 0; i < length; i += size) {
    chunks.push(Array.from({ length: Math.min(size, length - i) }, (_, k) => i + k));
  }
  return chunks;
}
