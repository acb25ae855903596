import { join } from "node:path";
import type { Connection } from "#core/connect.ts";
import { Executor, type TaskSpec } from "#sdk/index.ts";
import { mulberry32 } from "../realism/rng.ts";
import type { FaultDeployment } from "./deployment.ts";
import type { Figures, Tally } from "./tally.ts";

export interface ScenarioContext {
  d: FaultDeployment;
  /** The reduced size for CI. */
  quick: boolean;
  /** Seeded random numbers in [0, 1): a failing run can be replayed with --seed. */
  random: () => number;
  log: (message: string) => void;
}

export interface Scenario {
  name: string;
  run(ctx: ScenarioContext): Promise<Figures>;
}

/** An Executor whose result-queue receives are counted by the tally. */
export function executorFor(conn: Connection, tally: Tally, journalDir?: string): Executor {
  return new Executor(
    { sqs: tally.countingSqs(conn.aws.sqs), control: conn.control },
    journalDir ? { journalDir } : {},
  );
}

/** Submit specs in batches, recording each task id as submitted once its batch is sent. */
export async function submitAll(
  executor: Executor,
  tally: Tally,
  specs: TaskSpec[],
  batch = 100,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < specs.length; i += batch) {
    const futures = await executor.submitMany(specs.slice(i, i + batch));
    for (const f of futures) {
      tally.submitted.add(f.taskId);
      ids.push(f.taskId);
    }
  }
  return ids;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function journalDirOf(d: FaultDeployment, scenario: string): string {
  return join(d.home, "sessions", scenario);
}

/** Seeded random numbers in [0, 1), good enough to pick kill times (the realism layer's). */
export const seededRandom = mulberry32;
