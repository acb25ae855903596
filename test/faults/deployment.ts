import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LocalBackendName, loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import type { FunctionRecord } from "#core/protocol/index.ts";
import { type AgentProcess, type LocalDeployment, spawnAgent, startLocal } from "#local/index.ts";
import { registerNodeFunction, registerShellFunction } from "#sdk/index.ts";
import { CuttableProxy } from "../integration/cuttable-proxy.ts";
import type { RealismFaults } from "../realism/index.ts";
import { type RealisticDeployment, rehost, startRealistic } from "./realistic.ts";

const FUNCTIONS_DIR = fileURLToPath(new URL("./functions/", import.meta.url));

/** The embedded deployment the campaign runs against, in a private FERRY_HOME. */
export interface FaultDeployment {
  home: string;
  local: LocalDeployment;
  /** Environment for child processes (agents, clients) that reach the deployment directly. */
  env: NodeJS.ProcessEnv;
  conn: Connection;
  /** Register an endpoint; returns its UUID. */
  registerEndpoint(name: string): Promise<string>;
  /** Bundle and register test/faults/functions/<file>.ts under `name`. */
  registerNode(name: string, file: string): Promise<FunctionRecord>;
  /** Register a shell function: `node -e <script>` run without a shell. */
  registerShell(name: string, script: string): Promise<FunctionRecord>;
  /** Write a site config for agents of one scenario; returns its path. */
  siteConfig(name: string, settings: Record<string, unknown>): Promise<string>;
  /** Start `ferry endpoint start <id>` as a child process, logging to a file under home. */
  spawnAgent(endpointId: string, configPath: string, env?: NodeJS.ProcessEnv): AgentProcess;
  /**
   * Proxies in front of the emulator and the local Lambda host, and a deployment file that
   * routes through them: cutting both is the emulator going away, as every client sees it.
   */
  proxied(): Promise<ProxiedDeployment>;
  /**
   * The AWS-realism proxies (latency, throttling, 5xx, resets, AWS's queue windows) in front
   * of SQS, S3 and the Lambda host, and a deployment file that routes through them.
   */
  realistic(faults: RealismFaults, seed: number): Promise<RealisticDeployment>;
  close(): Promise<void>;
}

export interface ProxiedDeployment {
  env: NodeJS.ProcessEnv;
  conn: Connection;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** `backend`: which emulator. @default FERRY_LOCAL_BACKEND, else "fauxqs" */
export async function startFaultDeployment(
  home: string,
  backend: LocalBackendName = loadEnv().localBackend ?? "fauxqs",
): Promise<FaultDeployment> {
  await mkdir(home, { recursive: true });
  const local = await startLocal({ home, backend });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FERRY_HOME: home,
    FERRY_DEPLOYMENT: local.deploymentPath,
    FERRY_LOG_LEVEL: "warn",
  };
  const conn = await connect(loadEnv(env));
  const deps = { s3: conn.aws.s3, bucket: conn.deployment.bucketName, control: conn.control };
  let agents = 0;
  const closers: Array<() => Promise<void>> = [];

  return {
    home,
    local,
    env,
    conn,
    async registerEndpoint(name) {
      const { endpoint } = await conn.control.call("registerEndpoint", { name });
      return endpoint.endpointId;
    },
    registerNode: (name, file) => registerNodeFunction(deps, join(FUNCTIONS_DIR, file), name),
    registerShell: (name, script) =>
      registerShellFunction(deps, [process.execPath, "-e", script], name),
    async siteConfig(name, settings) {
      const dir = join(home, "sites", name);
      await mkdir(dir, { recursive: true });
      const path = join(dir, "site.json");
      const config = {
        scratchDir: join(dir, "scratch"),
        cacheDir: join(dir, "cache"),
        spoolDir: join(dir, "spool"),
        ...settings,
      };
      await writeFile(path, JSON.stringify(config));
      return path;
    },
    spawnAgent(endpointId, configPath, childEnv = env) {
      return spawnAgent({
        endpointId,
        configPath,
        env: childEnv,
        logFile: join(home, `agent-${++agents}.log`),
      });
    },
    async realistic(faults, seed) {
      const realistic = await startRealistic(home, local, env, faults, seed);
      closers.push(realistic.close);
      return realistic;
    },
    async proxied() {
      const { proxies, outputs } = await proxiedOutputs(local);
      const path = join(home, "deployment-proxied.json");
      await writeFile(path, JSON.stringify({ [local.stackName]: outputs }));
      const proxiedEnv = { ...env, FERRY_DEPLOYMENT: path };
      const proxiedConn = await connect(loadEnv(proxiedEnv));
      const cut = async () => {
        await Promise.all(proxies.map((p) => p.cut()));
      };
      const close = async () => {
        proxiedConn.close();
        await cut();
      };
      closers.push(close);
      return {
        env: proxiedEnv,
        conn: proxiedConn,
        cut,
        restore: async () => {
          await Promise.all(proxies.map((p) => p.listen()));
        },
        close,
      };
    },
    async close() {
      for (const close of closers) await close().catch(() => undefined);
      conn.close();
      await local.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/**
 * Proxies in front of the emulator's endpoints (one for SQS and S3 where one server serves
 * both, one each where they are apart) and the Lambda host, and the deployment outputs that
 * route through them.
 */
async function proxiedOutputs(
  local: LocalDeployment,
): Promise<{ proxies: CuttableProxy[]; outputs: Record<string, string> }> {
  const portOf = (url: string) => Number(new URL(url).port);
  const sqs = new CuttableProxy(portOf(local.sqsEndpointUrl));
  const s3 =
    local.s3EndpointUrl === local.sqsEndpointUrl
      ? sqs
      : new CuttableProxy(portOf(local.s3EndpointUrl));
  const lambda = new CuttableProxy(portOf(local.lambdaEndpointUrl));
  const proxies = [...new Set([sqs, s3, lambda])];
  await Promise.all(proxies.map((p) => p.listen()));
  const file = JSON.parse(await readFile(local.deploymentPath, "utf8")) as Record<
    string,
    Record<string, string>
  >;
  const outputs = { ...file[local.stackName] };
  if (outputs.LocalAwsEndpointUrl !== undefined) outputs.LocalAwsEndpointUrl = sqs.url;
  outputs.LocalSqsEndpointUrl = sqs.url;
  outputs.LocalS3EndpointUrl = s3.url;
  outputs.LocalLambdaEndpointUrl = lambda.url;
  if (outputs.RegistrationFunctionUrl)
    outputs.RegistrationFunctionUrl = rehost(outputs.RegistrationFunctionUrl, lambda.url);
  return { proxies, outputs };
}
