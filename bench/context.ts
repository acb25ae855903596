import type { ResultMessage } from "#core/protocol/index.ts";
import type { Executor } from "#sdk/index.ts";
import type { BenchDeployment } from "./deployment.ts";
import type { Row } from "./report.ts";

/** A Ferry task as measured by the bench, kept for the overheads benchmark (6). */
export interface TaskSample {
  /** Task type for the overheads table, e.g. "no-op" or "s3 10 MB". */
  type: string;
  timings: ResultMessage["timings"];
  /** Time to fetch (and verify, decode) the result's stored value; 0 inline. */
  fetchMs: number;
}

/** What every benchmark gets: the deployment, one executor, the run's size, and its outputs. */
export interface BenchContext {
  deployment: BenchDeployment;
  executor: Executor;
  quick: boolean;
  /** Endpoint with one agent of 8 slots, for benchmarks 1-3. */
  endpointId: string;
  /** Shared directory of the file store (both sides mount the same one here). */
  fileDir: string;
  samples: TaskSample[];
  /** Per task type, each measured task's stages (stages.ts). */
  stages: Record<string, Record<string, number>[]>;
  log(line: string): void;
}

export interface BenchOutput {
  rows: Row[];
  /** Absolute numbers and breakdowns, written to the JSON as they are. */
  details: Record<string, unknown>;
}
