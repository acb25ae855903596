import { constants } from "node:fs";
import { access, chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { loadEnv } from "#core/config/index.ts";
import { connect } from "#core/connect.ts";
import { ConfigError, NotFoundError } from "#core/errors.ts";
import {
  DEFAULT_LAUNCHER,
  generateJobscript,
  type JobscriptInput,
  LAUNCHERS,
  planJobscript,
} from "../jobscript/index.ts";
import { resolveEndpointId } from "../resolve.ts";

interface JobscriptFlags {
  scheduler: string;
  nodes: string;
  launcher?: string;
  endpoint?: string;
  config?: string;
  walltime?: string;
  queue?: string;
  account?: string;
  gpusPerNode?: string;
  filesystems?: string;
  system?: string;
  jobName?: string;
  drainSeconds?: string;
  ferryHome?: string;
  deployment?: string;
  ferry?: string;
  output?: string;
}

const DEPLOYMENT_HINT =
  "copy the `cdk deploy --outputs-file` JSON here (or set FERRY_DEPLOYMENT) to check the endpoint";

/**
 * Add `ferry endpoint jobscript` under the `endpoint` command; call it after
 * registerEndpointCommands(program).
 */
export function registerJobscriptCommand(program: Command): void {
  const endpoint = program.commands.find((c) => c.name() === "endpoint");
  if (!endpoint) throw new Error("registerJobscriptCommand: register the endpoint commands first");
  endpoint
    .command("jobscript")
    .description("print a PBS or Slurm batch script that runs one agent per node of a job")
    .requiredOption("--scheduler <pbs|slurm>", "batch scheduler")
    .requiredOption("--nodes <n>", "nodes in the job; one agent runs on each")
    .option(
      "--launcher <name>",
      `what starts the agents: ${LAUNCHERS.join(", ")} (default: ${DEFAULT_LAUNCHER.slurm} for slurm, ${DEFAULT_LAUNCHER.pbs} for pbs)`,
    )
    .option("-e, --endpoint <endpoint>", "endpoint UUID or name (default: the config's endpointId)")
    .option("-c, --config <file>", "site config file (JSON or YAML) the agents read")
    .option("--walltime <HH:MM:SS>", "job walltime", "01:00:00")
    .option("--queue <name>", "PBS queue or Slurm partition")
    .option("--account <name>", "project or account to charge")
    .option("--gpus-per-node <n>", "GPUs to request on each node")
    .option("--filesystems <list>", "PBS: filesystems the job needs, e.g. home:eagle (Polaris)")
    .option("--system <name>", "PBS: the select statement's system=, e.g. polaris")
    .option("--job-name <name>", "job name (default: ferry-<endpoint>)")
    .option(
      "--drain-seconds <s>",
      "tell agents to drain this long before the walltime ends (default: from the config)",
    )
    .option(
      "--ferry-home <dir>",
      "shared Ferry home on the site; each node uses <dir>/nodes/<host> (default: the job's $FERRY_HOME, else ~/.ferry)",
    )
    .option(
      "--deployment <file>",
      "deployment file on the site (default: the job's $FERRY_DEPLOYMENT, else <ferry home>/deployment.json)",
    )
    .option(
      "--ferry <path>",
      "the ferry executable on the site (default: ferry, found on the job's PATH)",
    )
    .option("-o, --output <file>", "write the script to this file instead of stdout")
    .addHelpText(
      "after",
      [
        "\nExamples:",
        "  ferry endpoint jobscript --scheduler slurm --nodes 4 -e cpu --walltime 02:00:00 -o cpu.sbatch",
        "  ferry endpoint jobscript --scheduler pbs --nodes 2 --launcher pbsdsh -c gpu-pbs.yaml -o gpu.pbs",
      ].join("\n"),
    )
    .action(runJobscript);
}

async function runJobscript(flags: JobscriptFlags): Promise<void> {
  // Loaded here so other commands do not pay for the agent's config module at start-up.
  const site = flags.config
    ? await (await import("../jobscript/site.ts")).readSiteSummary(flags.config)
    : undefined;
  const input: JobscriptInput = {
    // zod checks the values; the casts only satisfy the input type.
    scheduler: flags.scheduler as JobscriptInput["scheduler"],
    launcher: flags.launcher as JobscriptInput["launcher"],
    nodes: flags.nodes,
    endpoint: flags.endpoint,
    walltime: flags.walltime,
    queue: flags.queue,
    account: flags.account,
    gpusPerNode: flags.gpusPerNode,
    filesystems: flags.filesystems,
    system: flags.system,
    jobName: flags.jobName,
    drainSeconds: flags.drainSeconds,
    ferryHome: flags.ferryHome,
    deployment: flags.deployment,
    ferry: flags.ferry,
  };
  // Option mistakes first: they need no network.
  const draft = planJobscript(input, site);
  // An unknown endpoint gets no script: exit 3, with the closest names.
  const resolved = await resolveEndpoint(flags, draft.endpoint);
  const { script, plan, submit } = generateJobscript(
    { ...input, endpoint: resolved.endpointId, endpointName: resolved.name },
    site,
  );
  for (const warning of [...resolved.warnings, ...plan.warnings]) {
    process.stderr.write(`ferry: warning: ${warning}\n`);
  }
  if (!flags.output) {
    process.stdout.write(script);
    return;
  }
  await writeFile(flags.output, script);
  await chmod(flags.output, 0o755);
  process.stdout.write(`wrote ${flags.output}; submit it with: ${submit} ${flags.output}\n`);
}

/**
 * The endpoint's UUID and name, from the deployment: the job's own file when this machine has
 * it (the script is written on the site), else this machine's, as every other command uses.
 */
async function resolveEndpoint(flags: JobscriptFlags, idOrName: string) {
  const env = loadEnv();
  const warnings: string[] = [];
  const sitePath =
    flags.deployment ?? (flags.ferryHome ? join(flags.ferryHome, "deployment.json") : undefined);
  let deploymentPath = env.deploymentPath;
  if (sitePath !== undefined && (await readable(sitePath))) deploymentPath = sitePath;
  else if (flags.deployment !== undefined) {
    warnings.push(
      `--deployment ${flags.deployment} is not on this machine: the endpoint was checked against ${deploymentPath}; the job reads ${flags.deployment}`,
    );
  }
  const conn = await connect({ ...env, deploymentPath }).catch((cause: unknown) => {
    if (!(cause instanceof ConfigError)) throw cause;
    throw new ConfigError(cause.message, { cause, hint: DEPLOYMENT_HINT });
  });
  try {
    const endpointId = await resolveEndpointId(conn.control, idOrName);
    // A UUID is not looked up by resolveEndpointId: ask whether it is registered.
    const view = await conn.control.call("describeEndpoint", { endpointId }).catch((e) => {
      if (!(e instanceof NotFoundError)) throw e;
      throw new NotFoundError(`no endpoint with id ${endpointId}`, {
        cause: e,
        hint: "see `ferry endpoint list`, or register one with `ferry endpoint register <name>`",
      });
    });
    return { endpointId, name: view.endpoint.name, warnings };
  } finally {
    conn.close();
  }
}

async function readable(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(
    () => true,
    () => false,
  );
}
