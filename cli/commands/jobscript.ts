import { chmod, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { readDeployment } from "#core/config/deployment.ts";
import { loadEnv } from "#core/config/env.ts";
import { ConfigError } from "#core/errors.ts";
import { generateJobscript, type JobscriptInput } from "../jobscript/index.ts";

/** This install's entry point: compute nodes run the same one (on a shared filesystem). */
const FERRY_BIN = fileURLToPath(new URL("../../bin/ferry.js", import.meta.url));

interface JobscriptFlags {
  scheduler: string;
  nodes: string;
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
  output?: string;
}

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
    .option("--ferry-home <dir>", "shared Ferry home; each node uses <dir>/nodes/<host>")
    .option(
      "--deployment <file>",
      "deployment file (default: $FERRY_DEPLOYMENT, else <ferry home>/deployment.json)",
    )
    .option("-o, --output <file>", "write the script to this file instead of stdout")
    .action(async (flags: JobscriptFlags) => {
      // --ferry-home acts as FERRY_HOME would, moving the default deployment file with it.
      const env = loadEnv(
        flags.ferryHome ? { ...process.env, FERRY_HOME: resolve(flags.ferryHome) } : process.env,
      );
      const ferryHome = env.home;
      const deployment = resolve(flags.deployment ?? env.deploymentPath);
      // Loaded here so other commands do not pay for the agent's config module at start-up.
      const site = flags.config
        ? await (await import("../jobscript/site.ts")).readSiteSummary(flags.config)
        : undefined;
      const { script, plan, submit } = generateJobscript(
        {
          // zod checks the value; the cast only satisfies the input type.
          scheduler: flags.scheduler as JobscriptInput["scheduler"],
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
          ferryHome,
          deployment,
          ferryCommand: [process.execPath, FERRY_BIN],
        },
        site,
      );
      // A wrong or missing deployment file is found now, not when the job starts.
      await readDeployment(deployment).catch((cause: unknown) => {
        throw new ConfigError((cause as Error).message, {
          cause,
          hint: "copy the `cdk deploy --outputs-file` JSON to the site and pass --deployment <file>",
        });
      });
      for (const warning of plan.warnings) process.stderr.write(`ferry: warning: ${warning}\n`);
      if (!flags.output) {
        process.stdout.write(script);
        return;
      }
      await writeFile(flags.output, script);
      await chmod(flags.output, 0o755);
      process.stdout.write(`wrote ${flags.output}; submit it with: ${submit} ${flags.output}\n`);
    });
}
