import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { writeReport } from "#campaigns/ipopt/index.ts";
import { loadEnv } from "#core/config/index.ts";
import { connect } from "#core/connect.ts";
import { type AgentProcess, spawnAgent } from "#local/agent-process.ts";
import { waitForEndpointsOnline } from "#sdk/index.ts";
import { runCampaign } from "./campaign.ts";

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
    .action(
      async (opts: { searchSize: string; spaceSize: string; out: string; keep?: boolean }) => {
        const home = await mkdtemp(join(tmpdir(), "ferry-demo-"));
        const say = (line: string) => process.stdout.write(`${line}\n`);
        say(`ferry demo: starting the local deployment in ${home}`);
        // Loaded here: it pulls in aws-cdk-lib, which no other command should pay for.
        const { startLocal } = await import("#local/stack.ts");
        const local = await startLocal({ home });
        const env = { ...process.env, FERRY_HOME: home, FERRY_DEPLOYMENT: local.deploymentPath };
        const conn = await connect(loadEnv(env));
        const agents: AgentProcess[] = [];
        try {
          const endpoints: Record<string, string> = {};
          for (const name of ["cpu", "gpu"]) {
            const { endpoint } = await conn.control.call("registerEndpoint", { name });
            endpoints[name] = endpoint.endpointId;
            agents.push(
              spawnAgent({
                endpointId: endpoint.endpointId,
                env,
                logFile: join(home, `agent-${name}.log`),
              }),
            );
            say(`endpoint ${name} ${endpoint.endpointId}: agent started`);
          }
          await waitForEndpointsOnline(conn.control, Object.values(endpoints), 60_000);
          say("both agents online (heartbeats received)");
          say(
            `campaign: simulations (obabel + GFN2-xTB) on "cpu", training and inference on "gpu"; ` +
              `${opts.searchSize} simulations over the first ${opts.spaceSize} molecules of the search space`,
          );
          const summary = await runCampaign(
            conn,
            {
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
            },
            say,
          );
          say(`report: ${await writeReport({ runDir: summary.runDir })}`);
        } finally {
          await Promise.all(agents.map((a) => a.stop(10_000)));
          conn.close();
          await local.stop();
          if (!opts.keep) await rm(home, { recursive: true, force: true });
        }
      },
    );
}
