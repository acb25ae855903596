import { isAbsolute } from "node:path";
import { z } from "zod";
import { ConfigError } from "#core/errors.ts";
import { SafeName, Uuid } from "#core/protocol/index.ts";
import {
  LAUNCHERS,
  type LauncherName,
  pickLauncher,
  SCHEDULERS,
  type Scheduler,
} from "./launchers.ts";
import type { SiteSummary } from "./site.ts";

/** Slurm's `--signal=...@<seconds>` takes at most this. */
const MAX_DRAIN_SECONDS = 65_535;
/** Slack between the agents' own drain bound and the scheduler's kill. */
const DRAIN_MARGIN_SECONDS = 10;
/** Warning time asked of the scheduler when the site config's grace periods are small. */
const MIN_DEFAULT_DRAIN_SECONDS = 120;

/** A whole number from the command line (a string) or from code (a number). */
const count = (max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v),
    z
      .number({ error: "expected a whole number" })
      .int("expected a whole number")
      .min(1, "must be at least 1")
      .max(max, `must be at most ${max}`),
  );

const token = (what: string) =>
  z.string().regex(/^[A-Za-z0-9_.@-]+$/, `a ${what} name: letters, digits, '.', '_', '-', '@'`);

/** A path the job reads on the site: relative ones would depend on the job's working directory. */
const absolutePath = z.string().refine(isAbsolute, "must be an absolute path (as on the site)");

/** What `ferry endpoint jobscript` accepts; the CLI passes its option strings as they are. */
export const JobscriptInput = z.strictObject({
  scheduler: z.enum(SCHEDULERS, { error: "expected pbs or slurm" }),
  /** What starts one agent per node. @default srun under Slurm, mpich under PBS */
  launcher: z.enum(LAUNCHERS, { error: `expected one of ${LAUNCHERS.join(", ")}` }).optional(),
  /** Nodes in the allocation; one agent runs on each. */
  nodes: count(100_000),
  /** Endpoint UUID or registered name. @default the site config's endpointId */
  endpoint: z.union([Uuid, SafeName], { error: "expected an endpoint UUID or name" }).optional(),
  /** The endpoint's registered name, once the CLI has resolved it: comments and the job name. */
  endpointName: SafeName.optional(),
  /** @default "01:00:00" */
  walltime: z
    .string()
    .regex(/^\d{1,4}:[0-5]\d:[0-5]\d$/, "expected HH:MM:SS, e.g. 01:00:00")
    .default("01:00:00"),
  /** PBS queue or Slurm partition. @default the scheduler's default */
  queue: token("queue").optional(),
  /** Project or account charged. @default the scheduler's default */
  account: token("account").optional(),
  /** GPUs per node requested from the scheduler. @default none requested */
  gpusPerNode: count(64).optional(),
  /** PBS only: `-l filesystems=` (Polaris: home:eagle). @default not requested */
  filesystems: z
    .string()
    .regex(/^[A-Za-z0-9_]+(:[A-Za-z0-9_]+)*$/, "expected names joined by ':', e.g. home:eagle")
    .optional(),
  /** PBS only: the `system=` of the select statement (Polaris: polaris). @default not given */
  system: token("system").optional(),
  /** @default ferry-<endpoint, shortened> */
  jobName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, "start with a letter; letters, digits, '.', '_', '-'")
    .optional(),
  /**
   * Seconds before the walltime ends at which agents are told to drain.
   * @default max(120, shutdownGraceSeconds + killGraceSeconds + 60) of the site config
   */
  drainSeconds: count(MAX_DRAIN_SECONDS).optional(),
  /**
   * Shared Ferry home: each node's agent keeps its state in <ferryHome>/nodes/<host>.
   * @default the job's own $FERRY_HOME, else ~/.ferry, on the site
   */
  ferryHome: absolutePath.optional(),
  /**
   * The deployment file (the `cdk deploy --outputs-file` JSON copied to the site).
   * @default the job's own $FERRY_DEPLOYMENT, else <ferry home>/deployment.json
   */
  deployment: absolutePath.optional(),
  /**
   * The `ferry` executable the nodes run: a command name looked up on the job's PATH, or an
   * absolute path on the site. Never this machine's: the script runs elsewhere. @default "ferry"
   */
  ferry: z
    .string()
    .regex(/^\P{Cc}+$/u, "expected a path or command name")
    .refine(
      (v) => isAbsolute(v) || !v.includes("/"),
      "expected an absolute path on the site, or a command name on its PATH",
    )
    .default("ferry"),
});
export type JobscriptInput = z.input<typeof JobscriptInput>;

/** Everything the renderer needs, validated and with defaults filled in. */
export interface JobscriptPlan {
  scheduler: Scheduler;
  launcher: LauncherName;
  nodes: number;
  /** UUID or name, as given (the CLI passes the UUID it resolved). */
  endpoint: string;
  endpointName: string | undefined;
  configPath: string | undefined;
  walltime: string;
  queue: string | undefined;
  account: string | undefined;
  gpusPerNode: number | undefined;
  filesystems: string | undefined;
  system: string | undefined;
  jobName: string;
  /** Seconds before the end of the walltime at which the agents start draining. */
  drainSeconds: number;
  /** Upper bound of one agent's drain: the site config's grace periods. */
  agentDrainSeconds: number;
  /** Written into the script only when given: else the site's own environment decides. */
  ferryHome: string | undefined;
  deployment: string | undefined;
  ferry: string;
  /** Things that will work but probably not as meant; the CLI prints them on stderr. */
  warnings: string[];
}

/** The CLI flag of each input field, so errors name what the user typed. */
const FLAGS: Record<string, string> = {
  scheduler: "--scheduler",
  launcher: "--launcher",
  nodes: "--nodes",
  endpoint: "--endpoint",
  walltime: "--walltime",
  queue: "--queue",
  account: "--account",
  gpusPerNode: "--gpus-per-node",
  filesystems: "--filesystems",
  system: "--system",
  jobName: "--job-name",
  drainSeconds: "--drain-seconds",
  ferryHome: "--ferry-home",
  deployment: "--deployment",
  ferry: "--ferry",
};
const HINT = "see `ferry endpoint jobscript --help`";

type Options = z.output<typeof JobscriptInput>;

/**
 * Validate the options against each other and the site config, and fill in every default.
 * Throws a ConfigError naming the flag at fault.
 */
export function planJobscript(input: JobscriptInput, site?: SiteSummary): JobscriptPlan {
  const o = parseOptions(input);
  const launcher = pickLauncher(o.scheduler, o.launcher, o.nodes);
  const endpoint = o.endpoint ?? site?.endpointId;
  if (endpoint === undefined) {
    throw new ConfigError("no endpoint to serve", {
      hint: "pass --endpoint <uuid or name>, or set endpointId in the site config",
    });
  }
  const gpuIds = site?.gpuIds ?? [];
  if (o.gpusPerNode !== undefined && gpuIds.length > o.gpusPerNode) {
    throw new ConfigError(
      `--gpus-per-node ${o.gpusPerNode} is fewer than the site config's ${gpuIds.length} gpuIds`,
      { hint: "request at least as many GPUs per node as gpuIds lists" },
    );
  }
  const { drainSeconds, agentDrainSeconds } = drainTimes(o, site);
  return {
    scheduler: o.scheduler,
    launcher,
    nodes: o.nodes,
    endpoint,
    endpointName: o.endpointName,
    configPath: site?.path,
    walltime: o.walltime,
    queue: o.queue,
    account: o.account,
    gpusPerNode: o.gpusPerNode,
    filesystems: o.filesystems,
    system: o.system,
    jobName: o.jobName ?? defaultJobName(o.endpointName ?? endpoint),
    drainSeconds,
    agentDrainSeconds,
    ferryHome: o.ferryHome,
    deployment: o.deployment,
    ferry: o.ferry,
    warnings: warningsFor(o, site),
  };
}

/** zod's first issue as a one-line error naming the flag; then the PBS-only options. */
function parseOptions(input: JobscriptInput): Options {
  const parsed = JobscriptInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    throw new ConfigError(`${FLAGS[key] ?? (key || "options")}: ${issue?.message ?? "invalid"}`, {
      hint: HINT,
    });
  }
  const o = parsed.data;
  if (o.scheduler === "slurm") {
    for (const key of ["filesystems", "system"] as const) {
      if (o[key] !== undefined) {
        throw new ConfigError(`${FLAGS[key]} is a PBS option`, {
          hint: `drop it for --scheduler slurm`,
        });
      }
    }
  }
  return o;
}

/** How long before the walltime's end the agents drain, checked against their grace periods. */
function drainTimes(o: Options, site: SiteSummary | undefined) {
  const agentDrainSeconds = Math.ceil(
    (site?.shutdownGraceSeconds ?? 30) + (site?.killGraceSeconds ?? 5),
  );
  const minDrain = agentDrainSeconds + DRAIN_MARGIN_SECONDS;
  const drainSeconds =
    o.drainSeconds ?? Math.max(MIN_DEFAULT_DRAIN_SECONDS, agentDrainSeconds + 60);
  if (drainSeconds < minDrain) {
    throw new ConfigError(
      `--drain-seconds ${drainSeconds} leaves agents too little time to drain (their grace periods add up to ${agentDrainSeconds} s)`,
      { hint: `give at least ${minDrain}, or shorten shutdownGraceSeconds in the site config` },
    );
  }
  if (drainSeconds > MAX_DRAIN_SECONDS) {
    throw new ConfigError(`the drain time ${drainSeconds} s is over ${MAX_DRAIN_SECONDS} s`, {
      hint: "shorten shutdownGraceSeconds in the site config, or pass --drain-seconds",
    });
  }
  if (toSeconds(o.walltime) <= drainSeconds) {
    throw new ConfigError(
      `--walltime ${o.walltime} is not longer than the ${drainSeconds} s the agents need to drain`,
      { hint: "ask for a longer walltime, or pass a smaller --drain-seconds" },
    );
  }
  return { drainSeconds, agentDrainSeconds };
}

/** Things that will work but probably not as meant. */
function warningsFor(o: Options, site: SiteSummary | undefined): string[] {
  const warnings: string[] = [];
  if (o.gpusPerNode !== undefined && (site?.gpuIds ?? []).length === 0) {
    warnings.push(
      "--gpus-per-node is set but the site config lists no gpuIds: tasks will not be pinned to GPUs",
    );
  }
  for (const key of site?.relativeDirs ?? []) {
    warnings.push(
      `the site config's ${key} is a relative path: each agent resolves it against the job's working directory; make it absolute`,
    );
  }
  if (o.nodes > 1) {
    for (const dir of ["spoolDir", "cacheDir"] as const) {
      const value = site?.explicit[dir];
      if (value !== undefined) {
        warnings.push(
          `the site config sets ${dir} ${value}: all ${o.nodes} agents use it; make it node-local or remove it to get one per node`,
        );
      }
    }
  }
  return warnings;
}

/** HH:MM:SS (hours may exceed 24) to seconds. */
export function toSeconds(walltime: string): number {
  const [h = 0, m = 0, s = 0] = walltime.split(":").map(Number);
  return h * 3_600 + m * 60 + s;
}

/** Short enough for old PBS servers (15 characters), recognisable in qstat / squeue. */
function defaultJobName(endpoint: string): string {
  const short = Uuid.safeParse(endpoint).success ? endpoint.slice(-8) : endpoint;
  return `ferry-${short}`.slice(0, 15).replace(/[^A-Za-z0-9_.-]/g, "-");
}
