// The campaign's names and the shapes it reports, shared by its agents and the CLI.
import type { RequestMeter } from "#core/aws/index.ts";
import type { Executor } from "#sdk/index.ts";
import type { CampaignOptions } from "./options.ts";
import type { RunRecords } from "./records.ts";
import type { SearchState } from "./state.ts";

/** Names the Node functions are registered under (train and infer: the GP backend's). */
export const FUNCTION_NAMES = {
  simulate: "ipopt-simulate",
  train: "ipopt-train",
  infer: "ipopt-infer",
} as const;

/** One line of progress.jsonl, and what `onSimulation` is told. */
export interface CampaignProgress {
  simulated: number;
  failed: number;
  searchSize: number;
  bestIpEv: number | undefined;
  foundAboveThreshold: number;
  elapsedMs: number;
  updates: number;
}

/** Callbacks the CLI passes to follow a run. */
export interface CampaignHooks {
  /** After each simulate result. */
  onSimulation?(progress: CampaignProgress): void;
  /** A line worth telling the user (model updates, failures). */
  say?(line: string): void;
  /** The run's AWS request counts: written to aws-requests.json every 10 s and at the end. */
  meter?: Pick<RequestMeter, "tally">;
}

/** What a finished run returns (and writes as summary.json). */
export interface CampaignSummary extends CampaignProgress {
  runDir: string;
  best: { smiles: string; ipEv: number }[];
  tasks: { simulate: number; train: number; infer: number };
  /**
   * Why the run stopped, one line: search-size results reached, every molecule of the search
   * space searched, or the models producing no scores. Absent in summaries of older runs.
   */
  stopReason?: string;
}

/** The endpoints simulations (qc) and the surrogate's train and infer tasks (ml) run on. */
export interface CampaignEndpoints {
  qc: string;
  ml: string;
}

/** What every agent of one run shares: where to submit, what to record, what is known. */
export interface CampaignContext {
  readonly executor: Executor;
  readonly endpoints: CampaignEndpoints;
  readonly options: CampaignOptions;
  readonly records: RunRecords;
  readonly state: SearchState;
  readonly say: (line: string) => void;
  /** Aborts when the run stops (enough simulations, or a failure). */
  readonly signal: AbortSignal;
}
