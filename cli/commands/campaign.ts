import type { Command } from "commander";
import {
  type CampaignOptionsInput,
  type CampaignSummary,
  registerCampaignFunctions,
  resolveCampaignOptions,
  resolveMlBackend,
  runIpCampaign,
  writeReport,
} from "#campaigns/ipopt/index.ts";
import { RequestMeter } from "#core/aws/index.ts";
import type { Connection } from "#core/connect.ts";
import { writeClientRequests } from "#core/cost/index.ts";
import { ConfigError } from "#core/errors.ts";
import { executorFor } from "#sdk/index.ts";
import { withConnection } from "../connection.ts";
import { table } from "../output.ts";
import { progressBar } from "../progress.ts";
import { resolveEndpointId } from "../resolve.ts";
import { declareCampaignCost } from "./campaign-cost.ts";
import { withQcWorkers } from "./campaign-workers.ts";

/**
 * Run the IP campaign on a deployment: register its functions if needed, steer until
 * search-size simulations (or the search space is used up), write the run directory, print a
 * summary.
 */
export async function runCampaign(
  conn: Connection,
  input: CampaignOptionsInput,
  say: (line: string) => void,
): Promise<CampaignSummary> {
  const requested = resolveCampaignOptions(await withQcWorkers(conn.control, input));
  // Before the first call: aws-requests.json counts every request of the run from here.
  const meter = new RequestMeter();
  meter.attachAll(conn.aws);
  let runDir: string | undefined;
  const endpoints = {
    qc: await resolveEndpointId(conn.control, requested.qcEndpoint),
    ml: await resolveEndpointId(conn.control, requested.mlEndpoint),
  };
  // --ml-backend auto: the MPNN where the ML endpoint has a GPU, else the GP.
  const options = await resolveMlBackend(conn.control, endpoints.ml, requested);
  say(`ML backend: ${options.mlBackend}`);
  const deps = { s3: conn.aws.s3, bucket: conn.deployment.bucketName, control: conn.control };
  const registered = await registerCampaignFunctions(deps, options);
  if (registered.length > 0) say(`registered ${registered.join(", ")}`);
  const executor = executorFor(conn, {
    storePolicies: options.storePolicies,
    ...(options.psFileDir ? { fileDir: options.psFileDir } : {}),
  });
  const bar = progressBar(options.searchSize, "simulations");
  let shown = 0;
  try {
    const summary = await runIpCampaign(executor, endpoints, options, {
      say: (line) => bar.around(() => say(`  ${line}`)),
      onSimulation: (p) => {
        bar.increment(p.simulated - shown);
        shown = p.simulated;
      },
      meter,
    });
    runDir = summary.runDir;
    bar.stop();
    printSummary(summary, say);
    return summary;
  } finally {
    bar.stop();
    // The campaign cancelled what it no longer needs: results still to come get parked.
    await executor.close({ closeSession: "force" }).catch(() => undefined);
    // Once more, with the session's close counted.
    if (runDir) await writeClientRequests(runDir, meter);
  }
}

function printSummary(s: CampaignSummary, say: (line: string) => void): void {
  say(
    `campaign done in ${(s.elapsedMs / 1000).toFixed(1)} s: ${s.simulated} simulated, ${s.failed} failed, ` +
      `${s.updates} model updates (${s.tasks.train} train, ${s.tasks.infer} infer tasks), ` +
      `${s.foundAboveThreshold} above the threshold`,
  );
  say("best molecules found:");
  say(
    table(
      ["RANK", "SMILES", "IP (eV)"],
      s.best.slice(0, 5).map((m, i) => [String(i + 1), m.smiles, m.ipEv.toFixed(3)]),
    ),
  );
  say(`run files: ${s.runDir}`);
}

interface CampaignFlags {
  qcEndpoint?: string;
  mlEndpoint?: string;
  proxystore: boolean;
  [option: string]: unknown;
}

export function registerCampaignCommands(program: Command): void {
  const campaign = program.command("campaign").description("run science campaigns on endpoints");
  declareCampaignRun(campaign);
  declareCampaignReport(campaign);
  declareCampaignCost(campaign);
}

function declareCampaignRun(campaign: Command): void {
  const run = campaign
    .command("run <campaign>")
    .description(
      "run a campaign (ipopt: active-learning search for molecules of high ionization potential)",
    )
    .option("--qc-endpoint <endpoint>", "endpoint (UUID or name) for simulations")
    .option("--ml-endpoint <endpoint>", "endpoint (UUID or name) for training and inference")
    .option(
      "--num-qc-workers <n>",
      "simulations kept in flight (default: the QC endpoint's slots / --nodes-per-task)",
    )
    .option("--nodes-per-task <n>", "threads (cores) of each xtb simulation", "1")
    .option("--molecules-per-ml-task <n>", "molecules scored by one infer task", "10000")
    .option("--model-count <n>", "ensemble members (one train task each)", "8")
    .option(
      "--training-set <file>",
      "initial training set ({ molecules: [{ smiles, ip }] }, .json[.gz])",
    )
    .option("--search-space <file>", "SMILES, one a line (.smi[.gz])")
    .option("--search-space-limit <n>", "use the first n molecules of the search space only")
    .option("--search-size <n>", "simulations to run", "500")
    .option("--retrain-frequency <n>", "retrain after this many new results", "1")
    .option("--beta <x>", "UCB exploration weight", "1")
    .option("--pause-during-update", "submit no simulations while the models update")
    .option(
      "--qc-specification <method>",
      "xtb (the seed's name for xtb-adiabatic) | xtb-adiabatic | xtb-vertical",
      "xtb-adiabatic",
    )
    .option("--no-proxystore", "send every argument and result inline")
    .option("--simulate-ps-backend <backend>", "s3 | file | redis | none", "none")
    .option("--infer-ps-backend <backend>", "s3 | file | redis | none", "s3")
    .option("--train-ps-backend <backend>", "s3 | file | redis | none", "s3")
    .option("--ps-threshold <bytes>", "values larger than this go through the store", "10000")
    .option("--ps-file-dir <dir>", "shared directory of the file backend")
    .option("--redishost <host>", "Redis server of the redis backend", "127.0.0.1")
    .option("--redisport <port>", "port of the Redis server", "6379")
    .option("--ps-globus-config <file>", "refused: Ferry has no globus backend (use s3)")
    .option("--threshold <eV>", "IP (eV) above which a molecule counts as found", "14")
    .option("--policy <policy>", "ucb | greedy | random", "ucb")
    .option("--seed <n>", "seed of the ensemble subsamples and the random policy", "0")
    .option("--name <name>", "run name (the directory is <out>/<name>-<date>)", "ipopt")
    .option("--out <dir>", "parent of the run directory", "runs")
    .addHelpText(
      "after",
      "\nExample:\n  ferry campaign run ipopt --qc-endpoint cpu --ml-endpoint gpu --search-size 100",
    )
    .action((name: string, flags: CampaignFlags) => runCampaignCommand(name, flags));
  declareModelOptions(run);
}

/** The surrogate's options of `campaign run`. */
function declareModelOptions(run: Command): void {
  run
    .option(
      "--ml-backend <backend>",
      "surrogate: auto (mpnn where the ML endpoint has a GPU, else gp) | gp (Node) | mpnn (PyTorch shell functions)",
      "auto",
    )
    .option(
      "--mpnn-model-files <files...>",
      "MPNN starting models: JSON files of ipopt-train-mpnn results",
    )
    .option(
      "--retrain-from-scratch",
      "re-initialise each MPNN member at every update (default, as the seed)",
    )
    .option("--no-retrain-from-scratch", "fine-tune each MPNN member from its previous weights")
    .option(
      "--member-subsample <x>",
      "share of the training set each member trains on (default: gp 0.8, mpnn 1 as the seed)",
    )
    .option("--ml-python <path>", "python with PyTorch on the ML endpoint (mpnn)", "python3")
    .option("--learning-rate <x>", "MPNN learning rate (recorded only for the GP)", "0.001")
    .option("--num-epochs <n>", "MPNN training epochs (recorded only for the GP)", "512");
}

function declareCampaignReport(campaign: Command): void {
  campaign
    .command("report <runDir>")
    .description(
      "write one self-contained HTML report of a campaign run (search curves, timeline, overheads)",
    )
    .option("--out <file>", "where to write the report (default <runDir>/report.html)")
    .option("--random <runDir>", "a random-selection run, drawn beside this one's search curves")
    .addHelpText(
      "after",
      "\nExample:\n  ferry campaign report runs/ipopt-2026-01-05T10-15-00Z --out report.html",
    )
    .action((runDir: string, flags: { out?: string; random?: string }) =>
      writeCampaignReport(runDir, flags),
    );
}

async function runCampaignCommand(name: string, flags: CampaignFlags): Promise<void> {
  if (name !== "ipopt")
    throw new ConfigError(`unknown campaign ${name}`, { hint: "the one campaign is ipopt" });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  await withConnection((conn) => runCampaign(conn, flagsToInput(flags), say));
}

async function writeCampaignReport(
  runDir: string,
  flags: { out?: string; random?: string },
): Promise<void> {
  const out = await writeReport({
    runDir,
    ...(flags.out ? { out: flags.out } : {}),
    ...(flags.random ? { randomDir: flags.random } : {}),
  });
  process.stdout.write(`report: ${out}\n`);
}

/** Commander's flags as the campaign's options (undefined ones take the defaults). */
function flagsToInput(flags: CampaignFlags): CampaignOptionsInput {
  // The seed's spellings, as commander names them, to the campaign's option names.
  const { proxystore, redishost, redisport, threshold, ...rest } = flags;
  const renamed = { ...rest, redisHost: redishost, redisPort: redisport, thresholdEv: threshold };
  const defined = Object.fromEntries(Object.entries(renamed).filter(([, v]) => v !== undefined));
  return { ...defined, proxystore } as CampaignOptionsInput;
}
