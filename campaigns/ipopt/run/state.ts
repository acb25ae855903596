// What a run knows so far, kept in one place as a Colmena thinker keeps its attributes.
import type { TrainingRecord } from "../model/index.ts";
import { Flag } from "../steering/index.ts";
import type { CampaignProgress } from "./types.ts";

/** A simulated molecule and its IP in eV. */
export interface FoundMolecule {
  smiles: string;
  ipEv: number;
}

/** What the surrogate predicted for a molecule when the campaign chose it. */
export interface Prediction {
  /** Ensemble mean, eV. */
  meanEv: number;
  /** Ensemble spread (one standard deviation), eV. */
  stdEv: number;
  /** The model update (1-based) whose ranking chose it. */
  update: number;
}

/** The latest update's predictions over the whole search space, in its order. */
interface SpaceScores {
  update: number;
  mean: Float64Array;
  std: Float64Array;
}

/** Where a run starts from: the search space, the training set and the stopping rules. */
export interface SearchStateInit {
  space: readonly string[];
  trainingSet: TrainingRecord[];
  /** Date.now() when the run started. */
  startedMs: number;
  searchSize: number;
  thresholdEv: number;
}

/**
 * The search's state shared by the run's agents: the training rows, the molecules searched
 * and found, the ranked queue and the counters. The result processors run one at a time, so
 * none of this needs a lock.
 */
export class SearchState {
  readonly space: readonly string[];
  /** Training rows: the training set, then every successful simulation. */
  readonly db: TrainingRecord[];
  /** SMILES never to submit: the training set's and every one submitted. */
  readonly searched: Set<string>;
  readonly found: FoundMolecule[] = [];
  /** Tasks submitted, per topic. */
  readonly counts = { simulate: 0, train: 0, infer: 0 };
  /** Set while the queue may hold a candidate. */
  readonly queueReady = new Flag();
  simulated = 0;
  failed = 0;
  /** Model updates started. */
  updates = 0;
  #queue: number[] = [];
  #scores: SpaceScores | undefined;
  /** Prediction of each molecule claimed while an update's scores were known. */
  readonly #predictions = new Map<string, Prediction>();
  #unsearched: number;
  readonly #init: SearchStateInit;

  constructor(init: SearchStateInit) {
    this.#init = init;
    this.space = init.space;
    this.db = init.trainingSet;
    this.searched = new Set(this.db.map((m) => m.smiles));
    this.#unsearched = [...new Set(this.space)].filter((s) => !this.searched.has(s)).length;
  }

  /** Distinct molecules of the space neither in the training set nor ever submitted. */
  get unsearched(): number {
    return this.#unsearched;
  }

  /** The counters as progress.jsonl records them. */
  progress(): CampaignProgress {
    return {
      simulated: this.simulated,
      failed: this.failed,
      searchSize: this.#init.searchSize,
      bestIpEv: this.found.reduce<number | undefined>(
        (b, m) => Math.max(b ?? -Infinity, m.ipEv),
        undefined,
      ),
      foundAboveThreshold: this.found.filter((m) => m.ipEv >= this.#init.thresholdEv).length,
      elapsedMs: Date.now() - this.#init.startedMs,
      updates: this.updates,
    };
  }

  /** A simulation that gave an IP: a new training row and a molecule found. */
  addSimulated(smiles: string, ip: number): void {
    this.simulated++;
    this.db.push({ smiles, ip });
    this.found.push({ smiles, ipEv: ip });
  }

  /** Keeps model update `update`'s combined predictions, for the molecules it will choose. */
  setScores(update: number, scores: { mean: Float64Array; std: Float64Array }): void {
    this.#scores = { update, mean: scores.mean, std: scores.std };
  }

  /** What the surrogate predicted for `smiles` when it was claimed; undefined if nothing. */
  predictionOf(smiles: string): Prediction | undefined {
    return this.#predictions.get(smiles);
  }

  /** Replaces the queue with a model update's ranking (indices into the space, best first). */
  refill(queue: number[]): void {
    this.#queue = queue;
    if (queue.length > 0) this.queueReady.set();
  }

  /** The queue's first molecule (the space's first when the queue is empty). */
  get topCandidate(): string | undefined {
    return this.space[this.#queue[0] ?? 0];
  }

  /** Whether the queue holds no molecule left to submit (then `queueReady` is cleared too). */
  queueDry(): boolean {
    while (this.#queue.length > 0 && this.searched.has(this.space[this.#queue[0] ?? 0] ?? "")) {
      this.#queue.shift();
    }
    if (this.#queue.length === 0) this.queueReady.clear();
    return this.#queue.length === 0;
  }

  /**
   * Takes the best queued molecule not yet searched and marks it searched; undefined when the
   * queue ran dry (then `queueReady` is cleared until the next refill).
   */
  claimNext(): string | undefined {
    let index = this.#queue.shift();
    while (index !== undefined && this.searched.has(this.space[index] ?? "")) {
      index = this.#queue.shift();
    }
    if (this.#queue.length === 0) this.queueReady.clear();
    if (index === undefined) return undefined;
    const smiles = this.space[index] ?? "";
    const mean = this.#scores?.mean[index];
    if (this.#scores && mean !== undefined && Number.isFinite(mean)) {
      const stdEv = this.#scores.std[index] ?? 0;
      this.#predictions.set(smiles, { meanEv: mean, stdEv, update: this.#scores.update });
    }
    this.searched.add(smiles);
    this.#unsearched--;
    return smiles;
  }

  /** The `n` highest IPs found, best first. */
  best(n: number): FoundMolecule[] {
    return [...this.found].sort((a, b) => b.ipEv - a.ipEv).slice(0, n);
  }
}
