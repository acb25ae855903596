// The IP campaign as Colmena-like agents over shared state: a simulator, a model updater, and
// the campaign that routes results between them and decides when to retrain and when to stop.
import type { ResultMessage } from "#core/protocol/index.ts";
import type { Executor } from "#sdk/index.ts";
import type { MlBackend } from "../mpnn/index.ts";
import { dispatchResults } from "../steering/index.ts";
import { ModelUpdater } from "./model-update.ts";
import type { CampaignOptions } from "./options.ts";
import { prepareRun } from "./setup.ts";
import { type SimulationOutcome, Simulator } from "./simulator.ts";
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
 * refills the queue with the top unsearched molecules by UCB. Stops at search-size results.
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
  return new IpCampaign(ctx, stop, ml, hooks).run();
}

/** One run: its agents, the stop switch, and the steering between them. */
class IpCampaign {
  readonly #ctx: CampaignContext;
  readonly #stop: AbortController;
  readonly #hooks: CampaignHooks;
  readonly #updater: ModelUpdater;
  readonly #simulator: Simulator;

  constructor(ctx: CampaignContext, stop: AbortController, ml: MlBackend, hooks: CampaignHooks) {
    this.#ctx = ctx;
    this.#stop = stop;
    this.#hooks = hooks;
    this.#updater = new ModelUpdater(ctx, ml);
    this.#simulator = new Simulator(ctx, this.#updater.idle);
  }

  /** Update, steer until search-size results, stop what is left, write summary.json. */
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
    };
    await records.writeJson("summary.json", summary);
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
          train: (result) => this.#updater.onTrain(result),
          infer: (result) => this.#updater.onInfer(result),
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
    if (state.simulated >= options.searchSize) return this.#stop.abort();
    if (countsTowardRetrain(outcome) && state.simulated % options.retrainFrequency === 0) {
      if (this.#updater.idle.isSet) await this.#updater.start();
    }
    this.#simulator.resultTaken();
  }
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
