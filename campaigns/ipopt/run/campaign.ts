// The IP campaign as Colmena-like agents over shared state: a simulator, a model updater, and
// the campaign that routes results between them and decides when to retrain and when to stop.
import { keepWriting, writeClientRequests } from "#core/cost/index.ts";
import { TaskFailedError } from "#core/errors.ts";
import type { ResultMessage } from "#core/protocol/index.ts";
import type { Executor } from "#sdk/index.ts";
import type { MlBackend } from "../mpnn/index.ts";
import { dispatchResults } from "../steering/index.ts";
import { ModelUpdater, type UpdateOutcome } from "./model-update.ts";
import type { CampaignOptions } from "./options.ts";
import { trainingSetSummary } from "./records.ts";
import { prepareRun } from "./setup.ts";
import { type SimulationOutcome, Simulator } from "./simulator.ts";
import { type StallDecision, stallDecision } from "./stall.ts";
import type {
  CampaignContext,
  CampaignEndpoints,
  CampaignHooks,
  CampaignSummary,
} from "./types.ts";

export {
  type CampaignHooks,
  type CampaignProgress,
  type CampaignSummary,
  FUNCTION_NAMES,
} from "./types.ts";

/**
 * The IP campaign (README "The IP-optimization campaign"): keeps num-qc-workers simulations in flight, the
 * best queued molecule first; every retrain-frequency successes retrains the ensemble (one
 * train task per model), scores the search space (one infer task per model and chunk), and
 * refills the queue with the top unsearched molecules by UCB. Stops at search-size results, or
 * when every molecule of the search space was searched. When the queue runs dry with nothing in
 * flight and no update running, updates the model to refill it; throws TaskFailedError (after
 * writing summary.json) when the last update produced no scores to refill it with.
 */
export async function runIpCampaign(
  executor: Executor,
  endpoints: CampaignEndpoints,
  options: CampaignOptions,
  hooks: CampaignHooks = {},
): Promise<CampaignSummary> {
  const startedMs = Date.now();
  const say = hooks.say ?? (() => undefined);
  const { records, state, ml } = await prepareRun(options, endpoints, startedMs, say);
  await records.writeJson("training-set.json", trainingSetSummary(state.db));
  const stop = new AbortController();
  const ctx: CampaignContext = {
    executor,
    endpoints,
    options,
    records,
    state,
    say,
    signal: stop.signal,
  };
  const { meter } = hooks;
  // Rewritten every 10 s, so that a killed run still has its request counts.
  const requests = meter && keepWriting(() => writeClientRequests(records.dir, meter), 10_000);
  try {
    return await new IpCampaign(ctx, stop, ml, hooks).run();
  } finally {
    await requests?.stop();
  }
}

/** One run: its agents, the stop switch, and the steering between them. */
class IpCampaign {
  readonly #ctx: CampaignContext;
  readonly #stop: AbortController;
  readonly #hooks: CampaignHooks;
  readonly #updater: ModelUpdater;
  readonly #simulator: Simulator;
  /** How the last model update to finish ended (the first one runs before any simulation). */
  #lastUpdate: UpdateOutcome["kind"] = "ranked";
  #stopReason: string | undefined;
  /** Set when the run stopped because it could not go on; thrown once summary.json is written. */
  #stopError: TaskFailedError | undefined;

  constructor(ctx: CampaignContext, stop: AbortController, ml: MlBackend, hooks: CampaignHooks) {
    this.#ctx = ctx;
    this.#stop = stop;
    this.#hooks = hooks;
    this.#updater = new ModelUpdater(ctx, ml);
    this.#simulator = new Simulator(ctx, this.#updater.idle);
  }

  /** Update, steer until the run stops, stop what is left, write summary.json (and say why). */
  async run(): Promise<CampaignSummary> {
    await this.#updater.start(); // as the seed's 2023 code: train first, then fill the queue
    await this.#steer();
    await cancelPending(this.#ctx.executor);
    const { records, state } = this.#ctx;
    const summary: CampaignSummary = {
      ...state.progress(),
      runDir: records.dir,
      best: state.best(10),
      tasks: state.counts,
      ...(this.#stopReason ? { stopReason: this.#stopReason } : {}),
    };
    await records.writeJson("summary.json", summary);
    if (this.#stopError) throw this.#stopError;
    return summary;
  }

  /** The submitter and the result dispatcher side by side; either's failure stops both. */
  async #steer(): Promise<void> {
    const stop = this.#stop;
    const quietAbort = (error: unknown) => {
      if (!stop.signal.aborted) throw error;
    };
    const failure = (error: unknown) => {
      stop.abort(error);
      throw error;
    };
    await Promise.all([
      this.#simulator.submitter().catch(quietAbort).catch(failure),
      dispatchResults(
        this.#ctx.executor.results(),
        {
          simulate: (result) => this.#onSimulate(result),
          train: async (result) => this.#onUpdateTask(await this.#updater.onTrain(result)),
          infer: async (result) => this.#onUpdateTask(await this.#updater.onInfer(result)),
        },
        stop.signal,
      ).catch(failure),
    ]);
  }

  /** A simulate result: record progress, then stop, retrain, or let the submitter go on. */
  async #onSimulate(result: ResultMessage): Promise<void> {
    const outcome = await this.#simulator.receive(result);
    const { options, records, state } = this.#ctx;
    const now = state.progress();
    await records.appendLine("progress.jsonl", now);
    this.#hooks.onSimulation?.(now);
    if (state.simulated >= options.searchSize) {
      return this.#finish(`reached search-size: ${state.simulated} results`, false);
    }
    if (countsTowardRetrain(outcome) && state.simulated % options.retrainFrequency === 0) {
      if (this.#updater.idle.isSet) await this.#updater.start();
    }
    if (await this.#unstall()) return;
    this.#simulator.resultTaken();
  }

  /** A train or infer result taken in; when it ended the update, see whether the run stalled. */
  async #onUpdateTask(outcome: UpdateOutcome | undefined): Promise<void> {
    if (outcome === undefined) return;
    this.#lastUpdate = outcome.kind;
    await this.#unstall();
  }

  /**
   * When nothing would move the run on (queue dry, nothing in flight, no update), updates the
   * model or stops the run, saying why. Returns whether the run stopped.
   */
  async #unstall(): Promise<boolean> {
    const { state } = this.#ctx;
    const decision: StallDecision = stallDecision({
      queueDry: state.queueDry(),
      inFlight: this.#simulator.inFlight,
      updateRunning: !this.#updater.idle.isSet,
      unsearched: state.unsearched,
      lastUpdateScored: this.#lastUpdate !== "unscored",
    });
    if (decision.kind === "none") return false;
    if (decision.kind === "update") {
      this.#ctx.say(
        `queue ran dry with ${decision.unsearched} unsearched molecules: updating the model to refill it`,
      );
      await this.#updater.start();
      return false;
    }
    if (decision.kind === "stop-exhausted") {
      const all = `searched all ${state.space.length} molecules of the search space`;
      this.#finish(`${all}: stopping at ${state.simulated} results`, true);
    } else {
      this.#stopError = noScoresError(this.#ctx, decision.unsearched);
      this.#finish(this.#stopError.message, false); // the CLI prints the error with its hint
    }
    return true;
  }

  /** Stops the run (summary.json follows) for `reason`, one line, told to the user if `tell`. */
  #finish(reason: string, tell: boolean): void {
    this.#stopReason = reason;
    if (tell) this.#ctx.say(reason);
    this.#stop.abort();
  }
}

/** The queue is dry and the last update scored nothing: the ML side needs looking at. */
function noScoresError(ctx: CampaignContext, unsearched: number): TaskFailedError {
  const { state, endpoints, records } = ctx;
  return new TaskFailedError(
    `model update ${state.updates} produced no scores and the queue is empty ` +
      `(${unsearched} molecules unsearched): stopping at ${state.simulated} results`,
    {
      context: { endpointId: endpoints.ml },
      hint:
        `every train (or infer) task failed; check the ML endpoint ${endpoints.ml} ` +
        `(its agent is running and can run the train function) and the errors in ` +
        `${records.dir}/training-results.jsonl and inference-results.jsonl`,
    },
  );
}

/**
 * Whether a result takes part in the retrain-frequency check: every one that returned a value,
 * even without a finite IP (the counter has not moved then, so it may retrain again).
 */
function countsTowardRetrain(outcome: SimulationOutcome): boolean {
  return outcome.kind === "simulated" || outcome.valueReturned;
}

/** Stops work nobody will read: a model update still running, simulations past the budget. */
async function cancelPending(executor: Executor): Promise<void> {
  const pending = executor.pendingTaskIds();
  if (pending.length === 0) return;
  await executor.cancel(pending).catch(() => undefined);
  // Let their Cancelled results arrive before the session's queue goes (agents poll every 5 s).
  const drained = Promise.allSettled(pending.map((id) => executor.result(id)));
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
}
