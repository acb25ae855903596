import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { SiteConfigInput } from "#agent/index.ts";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import { type AgentProcess, localDown, localUp, spawnAgent } from "#local/index.ts";
import { registerNodeFunction, waitForEndpointsOnline } from "#sdk/index.ts";

const functionFile = (name: string) =>
  fileURLToPath(new URL(`./functions/${name}.ts`, import.meta.url));

/** Names of the bench functions as registered. */
export const FUNCTIONS = { echo: "bench-echo", sleep: "bench-sleep" } as const;

export interface BenchDeployment {
  home: string;
  conn: Connection;
  /** Environment that points a child process (agent, CLI) at this deployment. */
  env: NodeJS.ProcessEnv;
  registerEndpoint(name: string): Promise<string>;
  /** Start `ferry endpoint start` as a child with this site config; resolves once online. */
  startAgent(endpointId: string, config: SiteConfigInput): Promise<AgentProcess>;
  stop(): Promise<void>;
}

/**
 * A whole local deployment of its own in a temp FERRY_HOME. The emulator and the Lambda host
 * run in their own process (`localUp` runs startLocal there), so the bench's client work does
 * not share an event loop with the transport it measures; so do the agents.
 */
export async function startBenchDeployment(
  options: { profileDir?: string | undefined } = {},
): Promise<BenchDeployment> {
  const home = await mkdtemp(join(tmpdir(), "ferry-bench-"));
  await localUp({ home });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FERRY_HOME: home,
    FERRY_DEPLOYMENT: join(home, "deployment.json"),
    FERRY_LOG_LEVEL: "warn",
  };
  // Agents (and their workers) write a V8 CPU profile each when they exit.
  const agentEnv: NodeJS.ProcessEnv = options.profileDir
    ? { ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${options.profileDir}` }
    : env;
  const conn = await connect(loadEnv(env));
  const deps = { s3: conn.aws.s3, bucket: conn.deployment.bucketName, control: conn.control };
  await registerNodeFunction(deps, functionFile("echo"), FUNCTIONS.echo);
  await registerNodeFunction(deps, functionFile("sleep"), FUNCTIONS.sleep);
  const agents: AgentProcess[] = [];
  const agentsByEndpoint = new Map<string, number>();
  let agentCount = 0;
  return {
    home,
    conn,
    env,
    async registerEndpoint(name) {
      const { endpoint } = await conn.control.call("registerEndpoint", { name });
      return endpoint.endpointId;
    },
    async startAgent(endpointId, config) {
      const n = agentCount++;
      const configPath = join(home, `site-${n}.json`);
      await writeFile(configPath, JSON.stringify(config));
      const agent = spawnAgent({
        endpointId,
        env: agentEnv,
        configPath,
        logFile: join(home, `agent-${n}.log`),
      });
      agents.push(agent);
      const serving = (agentsByEndpoint.get(endpointId) ?? 0) + 1;
      agentsByEndpoint.set(endpointId, serving);
      try {
        await waitForEndpointsOnline(conn.control, [endpointId], 60_000);
        await waitForAgents(conn, endpointId, serving, agent);
      } catch (error) {
        const tail = await readFile(join(home, `agent-${n}.log`), "utf8").catch(() => "");
        throw new Error(`agent ${n} did not come up: ${String(error)}\n${tail.slice(-3_000)}`);
      }
      return agent;
    },
    async stop() {
      await Promise.all(agents.map((a) => a.stop(10_000)));
      conn.close();
      await localDown(home);
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Until the endpoint has heard from `count` agents: a second agent on one endpoint is not "online" news. */
async function waitForAgents(
  conn: Connection,
  endpointId: string,
  count: number,
  agent: AgentProcess,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const view = await conn.control.call("describeEndpoint", { endpointId });
    if (view.agents.length >= count) return;
    if (agent.child.exitCode !== null) throw new Error(`agent exited with ${agent.child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`only ${view.agents.length} of ${count} agents up`);
    await sleep(100);
  }
}
