import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { type CampaignOptionsInput, writeReport } from "#campaigns/ipopt/index.ts";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import { addAgentTallies } from "#core/cost/index.ts";
import { type AgentProcess, spawnAgent } from "#local/agent-process.ts";
import { waitForEndpointsOnline } from "#sdk/index.ts";
import { runCampaign } from "./campaign.ts";

interface DemoOptions {
  searchSize: string;
  spaceSize: string;
  out: string;
  keep?: boolean;
}

type Say = (line: string) => void;

/**
 * The local demo: a whole deployment on this machine (emulator, registration function, two
 * endpoints "cpu" and "gpu" with their agents as child processes) running a small IP-optimization campaign.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "run Ferry end to end on this machine: local deployment, two endpoints, a small IP campaign",
    )
    .option("--search-size <n>", "simulations to run", "24")
    .option("--space-size <n>", "molecules of the search space to score", "3000")
    .option("--out <dir>", "parent of the run directory", "runs")
    .option("--keep", "leave the demo's files (deployment, agent logs) in place")
    .addHelpText("after", "\nExamples:\n  ferry demo\n  ferry demo --search-size 8 --keep")
    .action((opts: DemoOptions) => runDemo(opts));
}

/** Start the deployment and the agents, run the campaign, then take it all down again. */
async function runDemo(opts: DemoOptions): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "ferry-demo-"));
  const say: Say = (line) => process.stdout.write(`${line}\n`);
  say(`ferry demo: starting the local deployment in ${home}`);
  // Loaded here: it pulls in aws-cdk-lib, which no other command should pay for.
  const { startLocal } = await import("#local/stack.ts");
  const local = await startLocal({ home });
  const env = { ...process.env, FERRY_HOME: home, FERRY_DEPLOYMENT: local.deploymentPath };
  const conn = await connect(loadEnv(env));
  // Filled as agents start, so that the ones started are stopped whatever fails next.
  const agents: AgentProcess[] = [];
  try {
    const endpointIds = await startAgents(conn, { env, home, agents, say });
    await waitForEndpointsOnline(conn.control, endpointIds, 60_000);
    say("both agents online (heartbeats received)");
    say(
      `campaign: simulations (obabel + GFN2-xTB) on "cpu", training and inference on "gpu"; ` +
        `${opts.searchSize} simulations over the first ${opts.spaceSize} molecules of the search space`,
    );
    const summary = await runCampaign(conn, demoCampaign(opts), say);
    // Stopped before the report: each agent writes its final request tally as it exits.
    await Promise.all(agents.map((a) => a.stop(10_000)));
    await addAgentTallies(summary.runDir, meterFiles(home));
    say(`report: ${await writeReport({ runDir: summary.runDir })}`);
  } finally {
    await Promise.all(agents.map((a) => a.stop(10_000)));
    conn.close();
    await local.stop();
    if (!opts.keep) await rm(home, { recursive: true, force: true });
  }
}

/** Register endpoints "cpu" and "gpu" and start an agent for each; their ids. */
async function startAgents(
  conn: Connection,
  demo: { env: NodeJS.ProcessEnv; home: string; agents: AgentProcess[]; say: Say },
): Promise<string[]> {
  const endpointIds: string[] = [];
  for (const name of AGENT_NAMES) {
    const { endpoint } = await conn.control.call("registerEndpoint", { name });
    endpointIds.push(endpoint.endpointId);
    demo.agents.push(
      spawnAgent({
        endpointId: endpoint.endpointId,
        env: demo.env,
        logFile: join(demo.home, `agent-${name}.log`),
        requestMeterFile: meterFile(demo.home, name),
      }),
    );
    demo.say(`endpoint ${name} ${endpoint.endpointId}: agent started`);
  }
  return endpointIds;
}

const AGENT_NAMES = ["cpu", "gpu"] as const;
const meterFile = (home: string, name: string) => join(home, `requests-${name}.json`);
const meterFiles = (home: string) =>
  AGENT_NAMES.map((name) => ({ name, path: meterFile(home, name) }));

/** The demo's small campaign: simulations on "cpu", models on "gpu". */
function demoCampaign(opts: DemoOptions): CampaignOptionsInput {
  return {
    qcEndpoint: "cpu",
    mlEndpoint: "gpu",
    numQcWorkers: 2,
    modelCount: 2,
    moleculesPerMlTask: 1_000,
    searchSpaceLimit: Number(opts.spaceSize),
    searchSize: Number(opts.searchSize),
    retrainFrequency: 8,
    name: "demo",
    out: opts.out,
  };
}
