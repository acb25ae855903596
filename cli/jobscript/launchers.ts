import { ConfigError } from "#core/errors.ts";
import type { JobscriptPlan } from "./options.ts";

export const SCHEDULERS = ["pbs", "slurm"] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

export const LAUNCHERS = ["mpich", "openmpi", "pbsdsh", "srun", "none"] as const;
export type LauncherName = (typeof LAUNCHERS)[number];

/** Seconds between two looks of each rank's watcher for the drain file (file-drained launchers). */
export const DRAIN_POLL_SECONDS = 5;

/** How one launcher starts a rank on each node, and how the agents are then told to drain. */
export interface Launcher {
  /** The schedulers it runs under: pbsdsh needs PBS's task manager, srun a Slurm allocation. */
  schedulers: readonly Scheduler[];
  /**
   * `signal`: SIGTERM to the launcher reaches every rank and the launcher waits for them.
   * `file`: it does not (Open MPI's mpirun kills ranks a moment after SIGTERM; pbsdsh passes the
   * signal on but exits at once, ending the job under the draining agents), so the batch script
   * creates a drain file that each rank watches.
   */
  drain: "signal" | "file";
  /** The command line that starts `rank` (shell words, already quoted) once per node. */
  line(plan: JobscriptPlan, rank: string): string;
  /** The shell that runs each rank's commands. @default "bash", found on PATH */
  shell?: string;
  /** One comment line for the script: what starts the agents. */
  about: string;
}

export const LAUNCHER: Record<LauncherName, Launcher> = {
  mpich: {
    schedulers: SCHEDULERS,
    drain: "signal",
    line: (plan, rank) => `mpiexec -n ${plan.nodes} --ppn 1 ${rank}`,
    about: "mpiexec of MPICH (Hydra) or PALS (HPE Cray systems such as Polaris)",
  },
  openmpi: {
    schedulers: SCHEDULERS,
    drain: "file",
    // Open MPI binds each rank to a core by default: the agent's workers would share that core.
    line: (plan, rank) => `mpirun -np ${plan.nodes} --map-by ppr:1:node --bind-to none ${rank}`,
    about: "Open MPI's mpirun",
  },
  pbsdsh: {
    schedulers: ["pbs"],
    drain: "file",
    // One task per chunk of the select statement, and place=scatter puts each chunk on its own
    // node. (PBS Pro's pbsdsh has no -u; that is Torque's.) TM starts the program by path.
    line: (_plan, rank) => `pbsdsh -- ${rank}`,
    shell: "/bin/bash",
    about: "pbsdsh, PBS's own task launcher, which needs no MPI",
  },
  srun: {
    schedulers: ["slurm"],
    drain: "signal",
    line(plan, rank) {
      // srun steps no longer inherit sbatch's CPU count: give each agent the whole node's CPUs.
      // --kill-on-bad-exit=0: one agent failing must not stop the others.
      const gpus = plan.gpusPerNode !== undefined ? ` --gpus-per-node=${plan.gpusPerNode}` : "";
      return (
        `srun --ntasks=${plan.nodes} --ntasks-per-node=1 --cpus-per-task="\${SLURM_CPUS_ON_NODE:-1}"` +
        `${gpus} --kill-on-bad-exit=0 ${rank}`
      );
    },
    about: "srun",
  },
  none: {
    schedulers: SCHEDULERS,
    drain: "signal",
    line: (_plan, rank) => rank,
    about: "the batch script itself: one agent, on the job's first node",
  },
};

/**
 * The default per scheduler. Slurm: srun, its own launcher, which forwards SIGTERM to the ranks.
 * PBS: mpiexec, as on PALS systems (Polaris) where PBS sites mostly run it; it forwards SIGTERM
 * and waits for the ranks, so no drain file on a shared filesystem is needed (pbsdsh needs one).
 */
export const DEFAULT_LAUNCHER: Record<Scheduler, LauncherName> = { pbs: "mpich", slurm: "srun" };

/** The launcher to use: the requested one if it fits the scheduler and node count, else why not. */
export function pickLauncher(
  scheduler: Scheduler,
  requested: LauncherName | undefined,
  nodes: number,
): LauncherName {
  const name = requested ?? DEFAULT_LAUNCHER[scheduler];
  if (!LAUNCHER[name].schedulers.includes(scheduler)) {
    const fits = LAUNCHERS.filter((l) => LAUNCHER[l].schedulers.includes(scheduler));
    const other = scheduler === "pbs" ? "slurm" : "pbs";
    throw new ConfigError(`--launcher ${name} does not run under ${scheduler}`, {
      hint: `use ${fits.join(", ")} (default ${DEFAULT_LAUNCHER[scheduler]}), or --scheduler ${other}`,
    });
  }
  if (name === "none" && nodes > 1) {
    throw new ConfigError(`--launcher none starts one agent, on one node, not ${nodes}`, {
      hint: `pass --nodes 1, or a launcher that starts one per node (default ${DEFAULT_LAUNCHER[scheduler]})`,
    });
  }
  return name;
}
