import type { JobscriptPlan } from "./options.ts";

/** What differs between batch schedulers; the rest of the script is shared. */
export interface SchedulerDialect {
  /** `#PBS` / `#SBATCH` lines. */
  directives(plan: JobscriptPlan): string[];
  /** The command that starts `rankCommand` once per node. */
  launch(plan: JobscriptPlan, rankCommand: string): string;
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
