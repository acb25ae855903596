// The simulation agent: keeps num-qc-workers simulations in flight and takes in their results.
import { z } from "zod";
import type { ResultMessage } from "#core/protocol/index.ts";
import { Flag, ResourceSlots } from "../steering/index.ts";
import { type CampaignContext, FUNCTION_NAMES } from "./types.ts";

/**
 * The part of the simulate function's value (functions/simulate.ts) the campaign reads: the IP,
 * or null with the reason when a relaxation changed the molecule.
 */
const SimulateValue = z.looseObject({
  ip: z.number().nullable(),
  rejected: z.string().optional(),
});

/**
 * How one simulation ended. `valueReturned`: the task succeeded but gave no finite IP (false
 * when the task itself failed); such a result still takes part in the retrain check.
 */
export type SimulationOutcome =
  | { kind: "simulated"; smiles: string; ipEv: number }
  | { kind: "failed"; smiles: string; valueReturned: boolean };

/**
 * Submits one simulation per free slot, the best queued molecule first, never more than the
 * search still needs; `receive` records each result and frees its slot.
 */
export class Simulator {
  readonly #ctx: CampaignContext;
  readonly #slots: ResourceSlots;
  /** A simulate result arrived: the submitter may have room again. */
  readonly #changed = new Flag();
  /** Waited on between simulations when --pause-during-update is set. */
  readonly #idle: Flag;
  readonly #submitted = new Map<string, string>(); // taskId -> SMILES
  #inFlight = 0;

  constructor(ctx: CampaignContext, modelIdle: Flag) {
    this.#ctx = ctx;
    this.#idle = modelIdle;
    this.#slots = new ResourceSlots({ simulate: ctx.options.numQcWorkers });
  }

  /** The submitter loop; runs until the run's signal aborts (and then rejects with its reason). */
  async submitter(): Promise<void> {
    const { signal } = this.#ctx;
    while (!signal.aborted) {
      await this.#slots.acquire("simulate", signal);
      await this.#waitForTurn(signal);
      const smiles = this.#ctx.state.claimNext();
      if (smiles === undefined) {
        this.#slots.release("simulate");
        continue;
      }
      await this.#submit(smiles);
    }
  }

  /** Simulations submitted whose results have not come back. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Lets the submitter look again after a result that did not stop the run. */
  resultTaken(): void {
    this.#changed.set();
  }

  /** Frees the slot, records the result (task line, molecules.csv) and says how it ended. */
  async receive(result: ResultMessage): Promise<SimulationOutcome> {
    const { executor, records, state } = this.#ctx;
    this.#slots.release("simulate");
    this.#inFlight--;
    const smiles = this.#submitted.get(result.taskId) ?? "";
    let value: z.infer<typeof SimulateValue> | undefined;
    let valueFetchMs: number | undefined; // client-side data access, for the report's overheads
    if (result.ok) {
      const fetchStarted = performance.now();
      const parsed = SimulateValue.safeParse(await executor.value(result));
      value = parsed.success ? parsed.data : { ip: null, rejected: "the value has no IP" };
      valueFetchMs = performance.now() - fetchStarted;
    }
    const ip = value?.ip ?? undefined;
    const ok = ip !== undefined && Number.isFinite(ip);
    const failure = ok ? null : failureReason(result, value?.rejected);
    // The prediction that chose it: the report's predicted-vs-simulated plot and calibration.
    const predicted = state.predictionOf(smiles) ?? null;
    await records.appendTask(result, {
      smiles,
      ipEv: ok ? ip : null,
      valueFetchMs,
      predicted,
      failure,
    });
    if (!ok) {
      state.failed++;
      this.#ctx.say(`simulate ${smiles} failed: ${failure}`);
      return { kind: "failed", smiles, valueReturned: result.ok };
    }
    state.addSimulated(smiles, ip);
    await records.appendMolecule(state.simulated, smiles, ip);
    return { kind: "simulated", smiles, ipEv: ip };
  }

  /** Waits until the search needs another simulation, the queue has one, and (if asked) no update runs. */
  async #waitForTurn(signal: AbortSignal): Promise<void> {
    const { options, state } = this.#ctx;
    // Never more in flight than the simulations still needed.
    while (state.simulated + this.#inFlight >= options.searchSize) {
      this.#changed.clear();
      await this.#changed.wait(signal);
    }
    await state.queueReady.wait(signal);
    if (options.pauseDuringUpdate) await this.#idle.wait(signal);
  }

  async #submit(smiles: string): Promise<void> {
    const { executor, endpoints, options, state } = this.#ctx;
    this.#inFlight++;
    const [future] = await executor.submitMany([
      {
        function: FUNCTION_NAMES.simulate,
        args: {
          smiles,
          method: options.qcSpecification,
          threads: options.nodesPerTask,
          walltimeSeconds: options.simulateWalltimeSeconds,
        },
        endpointId: endpoints.qc,
        topic: "simulate",
        walltimeSeconds: options.simulateWalltimeSeconds + 60,
        maxAttempts: 1,
      },
    ]);
    if (future) this.#submitted.set(future.taskId, smiles);
    state.counts.simulate++;
  }
}

/** One line: why a simulation gave no IP (a changed molecule, no number, or the task's error). */
function failureReason(result: ResultMessage, rejected: string | undefined): string {
  if (result.ok) return rejected ?? "no IP";
  return `${result.error.type}: ${result.error.message.split("\n")[0]}`;
}
