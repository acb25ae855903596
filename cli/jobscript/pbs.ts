import type { SchedulerDialect } from "./dialect.ts";

/** PBS Pro as on ALCF Polaris: whole nodes by select/place, ranks started by mpiexec (PALS). */
export const pbs: SchedulerDialect = {
  directives(plan) {
    const select = [`select=${plan.nodes}`];
    if (plan.system) select.push(`system=${plan.system}`);
    if (plan.gpusPerNode !== undefined) select.push(`ngpus=${plan.gpusPerNode}`);
    return [
      `#PBS -N ${plan.jobName}`,
      `#PBS -l ${select.join(":")}`,
      // One chunk per node, so that --ppn 1 puts one agent on each.
      "#PBS -l place=scatter",
      `#PBS -l walltime=${plan.walltime}`,
      ...(plan.queue ? [`#PBS -q ${plan.queue}`] : []),
      ...(plan.account ? [`#PBS -A ${plan.account}`] : []),
      ...(plan.filesystems ? [`#PBS -l filesystems=${plan.filesystems}`] : []),
      "#PBS -j oe",
    ];
  },
  launch(plan, rankCommand) {
    return `mpiexec -n ${plan.nodes} --ppn 1 ${rankCommand}`;
  },
  jobIdVar: "PBS_JOBID",
  submit: "qsub",
  stopEarly: "qsig -s TERM <jobid>",
  selfTimedDrain: true,
};
