import type { SchedulerDialect } from "./dialect.ts";

/** Slurm: whole nodes, one task each. */
export const slurm: SchedulerDialect = {
  directives(plan) {
    return [
      `#SBATCH --job-name=${plan.jobName}`,
      `#SBATCH --nodes=${plan.nodes}`,
      "#SBATCH --ntasks-per-node=1",
      // The agent sizes its workers from the node's CPUs (or gpuIds): it should own the node.
      "#SBATCH --exclusive",
      `#SBATCH --time=${plan.walltime}`,
      ...(plan.queue ? [`#SBATCH --partition=${plan.queue}`] : []),
      ...(plan.account ? [`#SBATCH --account=${plan.account}`] : []),
      ...(plan.gpusPerNode !== undefined ? [`#SBATCH --gpus-per-node=${plan.gpusPerNode}`] : []),
      // SIGTERM to this batch shell (B:) drainSeconds before the end; the trap passes it on.
      `#SBATCH --signal=B:TERM@${plan.drainSeconds}`,
    ];
  },
  jobIdVar: "SLURM_JOB_ID",
  submit: "sbatch",
  stopEarly: "scancel --batch --signal=TERM <jobid>",
  selfTimedDrain: false,
};
