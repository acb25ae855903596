// `ferry endpoint jobscript`: a PBS or Slurm batch script that runs one agent per node.
import { type JobscriptInput, type JobscriptPlan, planJobscript } from "./options.ts";
import { dialectOf, renderJobscript } from "./render.ts";
import type { SiteSummary } from "./site.ts";

export {
  DEFAULT_LAUNCHER,
  DRAIN_POLL_SECONDS,
  LAUNCHER,
  LAUNCHERS,
  type LauncherName,
  SCHEDULERS,
  type Scheduler,
} from "./launchers.ts";
export { JobscriptInput, type JobscriptPlan, planJobscript, toSeconds } from "./options.ts";
export { renderJobscript } from "./render.ts";
// site.ts loads the agent's config module: import it from there, only when a config is given.
export type { SiteSummary } from "./site.ts";

export interface Jobscript {
  script: string;
  plan: JobscriptPlan;
  /** The command that submits it: qsub or sbatch. */
  submit: string;
}

/** Validate, fill defaults and render in one call. */
export function generateJobscript(input: JobscriptInput, site?: SiteSummary): Jobscript {
  const plan = planJobscript(input, site);
  return { script: renderJobscript(plan), plan, submit: dialectOf(plan).submit };
}
