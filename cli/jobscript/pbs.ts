import type { SchedulerDialect } from "./dialect.ts";

/** PBS Pro as on ALCF Polaris: whole nodes by select/place, one chunk per node. */
export const pbs: SchedulerDialect = {
  directives(plan) {
    const select = [`select=${plan.nodes}`];
    if (plan.system) select.push(`system=${plan.system}`);
    if (plan.gpusPerNode !== undefined) select.push(`ngpus=${plan.gpusPerNode}`);
    return [
      `#PBS -N ${plan.jobName}`,
      `#PBS -l ${select.join(":")}`,
      // One chunk per node, so that one rank per chunk (mpiexec --ppn 1, pbsdsh) is one per node.
      "#PBS -l place=scatter",
      `#PBS -l walltime=${plan.walltime}`,
      ...(plan.queue ? [`#PBS -q ${plan.queue}`] : []),
      ...(plan.account ? [`#PBS -A ${plan.account}`] : []),
      ...(plan.filesystems ? [`#PBS -l filesystems=${plan.filesystems}`] : []),
      "#PBS -j oe",
    ];
  },
  jobIdVar: "PBS_JOBID",
  submit: "qsub",
  stopEarly: "qsig -s TERM <jobid>",
  selfTimedDrain: true,
};
