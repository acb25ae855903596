import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { ConfigError } from "#core/errors.ts";
import { synthFerryTemplate } from "#infra/index.ts";
import { type LambdaHost, startLambdaHost } from "./lambda-host.ts";
import { type CfnTemplate, type LocalPlan, planFromTemplate } from "./template.ts";

export interface LocalOptions {
  /** Ferry home: the deployment file and the synthesized assembly go here. */
  home: string;
  /** Port of the SQS + S3 emulator. @default 0 (a free port) */
  port?: number;
  /** Port of the local Lambda Invoke API. @default 0 (a free port) */
  lambdaPort?: number;
  /** @default "us-east-1" */
  region?: string;
  /** Stack name written in the deployment file. @default "Ferry" */
  stackName?: string;
}

export interface LocalDeployment {
  deploymentPath: string;
  stackName: string;
  outputs: Record<string, string>;
  awsEndpointUrl: string;
  lambdaEndpointUrl: string;
  plan: LocalPlan;
  stop(): Promise<void>;
}

/** Account id the emulator uses in ARNs and queue URLs. */
const LOCAL_ACCOUNT_ID = "000000000000";

/**
 * The embedded default: the emulator in memory, the resources of the synthesized FerryStack,
 * the registration Lambda's own bundle behind a local Invoke API, and a deployment file that the
 * CLI and agents read exactly as the outputs of `cdk deploy --outputs-file`.
 */
export async function startLocal(options: LocalOptions): Promise<LocalDeployment> {
  const region = options.region ?? "us-east-1";
  const stackName = options.stackName ?? "Ferry";
  await mkdir(options.home, { recursive: true });
  const synth = synthFerryTemplate({ outdir: join(options.home, "local", "cdk.out"), stackName });
  const template = synth.template as CfnTemplate;

  const emulator: FauxqsServer = await startFauxqs({
    port: options.port ?? 0,
    host: "127.0.0.1",
    logger: false,
    defaultRegion: region,
  });
  let lambda: LambdaHost | undefined;
  try {
    const plan = planFromTemplate(template, {
      region,
      accountId: LOCAL_ACCOUNT_ID,
      sqsEndpoint: emulator.address,
      namePrefix: `${stackName.toLowerCase()}-`,
    });
    for (const bucket of plan.buckets) emulator.createBucket(bucket.name);
    // Dead-letter queues first: others name them in their redrive policies.
    const ordered = [...plan.queues].sort(
      (a, b) => Number("RedrivePolicy" in a.attributes) - Number("RedrivePolicy" in b.attributes),
    );
    for (const q of ordered) emulator.createQueue(q.name, { region, attributes: q.attributes });

    const awsEnv = {
      AWS_REGION: region,
      AWS_ENDPOINT_URL: emulator.address,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    };
    lambda = await startLambdaHost(
      plan.functions.map((fn) => ({
        name: fn.name,
        bundleFile: bundleFileOf(join(synth.assemblyDir, fn.assetPath), fn.handler),
        exportName: fn.handler.split(".").at(-1) ?? "handler",
        environment: { ...fn.environment, ...awsEnv },
      })),
      { port: options.lambdaPort ?? 0 },
    );
    const outputs = {
      ...plan.outputs,
      LocalAwsEndpointUrl: emulator.address,
      LocalLambdaEndpointUrl: lambda.url,
    };
    const deploymentPath = join(options.home, "deployment.json");
    await writeFileAtomic(deploymentPath, `${JSON.stringify({ [stackName]: outputs }, null, 2)}\n`);
    const host = lambda;
    return {
      deploymentPath,
      stackName,
      outputs,
      awsEndpointUrl: emulator.address,
      lambdaEndpointUrl: host.url,
      plan,
      async stop() {
        await host.close();
        await emulator.stop();
      },
    };
  } catch (error) {
    await lambda?.close();
    await emulator.stop();
    throw error;
  }
}

function bundleFileOf(assetDir: string, handler: string): string {
  const base = handler.split(".").slice(0, -1).join(".") || "index";
  for (const ext of [".mjs", ".js", ".cjs"]) {
    const file = join(assetDir, `${base}${ext}`);
    if (existsSync(file)) return file;
  }
  throw new ConfigError(`local emulator: no bundle ${base}.mjs in ${assetDir}`);
}

async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export async function readJsonIfExists(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return undefined;
  }
}
