import type { JobscriptPlan } from "./options.ts";

/**
 * What differs between batch schedulers; the rest of the script is shared, and what starts the
 * agents on the nodes is the launcher's (launchers.ts).
 */
export interface SchedulerDialect {
  /** `#PBS` / `#SBATCH` lines. */
  directives(plan: JobscriptPlan): string[];
  /** The scheduler's job id variable, used to name per-job log files. */
  jobIdVar: string;
  /** How the user submits the script. */
  submit: string;
  /** How the user sends SIGTERM to the batch script alone, to drain before the end. */
  stopEarly: string;
  /**
   * Whether the script must time its own drain: PBS Pro sends no warning signal before the
   * walltime ends, Slurm does (`--signal`).
   */
  selfTimedDrain: boolean;
}
