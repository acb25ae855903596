import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalBackendName } from "#core/config/index.ts";
import { ConfigError } from "#core/errors.ts";
import { synthFerryTemplate } from "#infra/index.ts";
import { type LocalBackend, provision, startBackend } from "./backends/index.ts";
import { type HostedFunction, type LambdaHost, startLambdaHost } from "./lambda-host.ts";
import {
  type CfnTemplate,
  type LocalPlan,
  type PlanContext,
  planFromTemplate,
} from "./template.ts";

export interface LocalOptions {
  /** Ferry home: the deployment file and the synthesized assembly go here. */
  home: string;
  /**
   * Which emulator: `fauxqs` (SQS + S3 in memory on one port) or `compat` (local-aws-sqs with
   * lazy queue creation, and s3rver). @default "fauxqs"
   */
  backend?: LocalBackendName;
  /** Port of the SQS endpoint (fauxqs: of SQS and S3). @default 0 (a free port) */
  port?: number;
  /** Port of the S3 endpoint where the backend serves it apart (compat). @default 0 (a free port) */
  s3Port?: number;
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
  backend: LocalBackendName;
  sqsEndpointUrl: string;
  s3EndpointUrl: string;
  lambdaEndpointUrl: string;
  plan: LocalPlan;
  /** What the local Lambda host runs (bundle and environment), to host it again elsewhere. */
  functions: HostedFunction[];
  stop(): Promise<void>;
}

/** Account id the emulator uses in ARNs and queue URLs. */
const LOCAL_ACCOUNT_ID = "000000000000";

/**
 * The embedded default: an emulator, the resources of the synthesized FerryStack, the
 * registration Lambda's own bundle behind a local Invoke API, and a deployment file that the
 * CLI and agents read exactly as the outputs of `cdk deploy --outputs-file`.
 */
export async function startLocal(options: LocalOptions): Promise<LocalDeployment> {
  const region = options.region ?? "us-east-1";
  const stackName = options.stackName ?? "Ferry";
  await mkdir(options.home, { recursive: true });
  const synth = synthFerryTemplate({ outdir: join(options.home, "local", "cdk.out"), stackName });
  const template = synth.template as CfnTemplate;

  const backend = await startBackend(options.backend ?? "fauxqs", {
    home: options.home,
    region,
    accountId: LOCAL_ACCOUNT_ID,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.s3Port === undefined ? {} : { s3Port: options.s3Port }),
  });
  let lambda: LambdaHost | undefined;
  try {
    const planContext: PlanContext = {
      region,
      accountId: LOCAL_ACCOUNT_ID,
      sqsEndpoint: backend.sqsEndpointUrl,
      namePrefix: `${stackName.toLowerCase()}-`,
    };
    const plan = planFromTemplate(template, planContext);
    await provision(backend, plan);
    const functions = hostedFunctions(plan, synth.assemblyDir, backend, region);
    lambda = await startLambdaHost(functions, { port: options.lambdaPort ?? 0 });
    const outputs = deploymentOutputs(template, planContext, lambda, backend);
    const deploymentPath = join(options.home, "deployment.json");
    await writeFileAtomic(deploymentPath, `${JSON.stringify({ [stackName]: outputs }, null, 2)}\n`);
    return deploymentOf({ deploymentPath, stackName, outputs, plan, functions }, backend, lambda);
  } catch (error) {
    await lambda?.close();
    await backend.stop();
    throw error;
  }
}

/** The plan's functions as the Lambda host runs them: bundle, export, environment. */
function hostedFunctions(
  plan: LocalPlan,
  assemblyDir: string,
  backend: LocalBackend,
  region: string,
): HostedFunction[] {
  const awsEnv = {
    AWS_REGION: region,
    ...endpointEnv(backend),
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
  };
  return plan.functions.map((fn) => ({
    name: fn.name,
    bundleFile: bundleFileOf(join(assemblyDir, fn.assetPath), fn.handler),
    exportName: fn.handler.split(".").at(-1) ?? "handler",
    environment: { ...fn.environment, ...awsEnv },
  }));
}

/**
 * The deployment file's outputs: the template's, resolved again now that the host has an
 * address (the function URLs point at it), and the local endpoints.
 */
function deploymentOutputs(
  template: CfnTemplate,
  planContext: PlanContext,
  lambda: LambdaHost,
  backend: LocalBackend,
): Record<string, string> {
  const withUrls = planFromTemplate(template, {
    ...planContext,
    functionUrl: (name) => lambda.functionUrl(name),
  });
  return {
    ...withUrls.outputs,
    ...endpointOutputs(backend),
    LocalLambdaEndpointUrl: lambda.url,
  };
}

/** The deployment: what was written and planned, where it listens, and how to stop it. */
function deploymentOf(
  written: Pick<LocalDeployment, "deploymentPath" | "stackName" | "outputs" | "plan" | "functions">,
  backend: LocalBackend,
  host: LambdaHost,
): LocalDeployment {
  return {
    deploymentPath: written.deploymentPath,
    stackName: written.stackName,
    outputs: written.outputs,
    backend: backend.name,
    sqsEndpointUrl: backend.sqsEndpointUrl,
    s3EndpointUrl: backend.s3EndpointUrl,
    lambdaEndpointUrl: host.url,
    plan: written.plan,
    functions: written.functions,
    async stop() {
      await host.close();
      await backend.stop();
    },
  };
}

/** The Lambda's endpoints: one AWS_ENDPOINT_URL where one server serves both services. */
function endpointEnv(backend: LocalBackend): Record<string, string> {
  const { sqsEndpointUrl: sqs, s3EndpointUrl: s3 } = backend;
  return sqs === s3
    ? { AWS_ENDPOINT_URL: sqs }
    : { AWS_ENDPOINT_URL_SQS: sqs, AWS_ENDPOINT_URL_S3: s3 };
}

/**
 * SQS and S3 recorded apart; LocalAwsEndpointUrl too where they are one server, so that a file
 * written for fauxqs still reads in older Ferry versions.
 */
function endpointOutputs(backend: LocalBackend): Record<string, string> {
  const { sqsEndpointUrl: sqs, s3EndpointUrl: s3 } = backend;
  return {
    ...(sqs === s3 ? { LocalAwsEndpointUrl: sqs } : {}),
    LocalSqsEndpointUrl: sqs,
    LocalS3EndpointUrl: s3,
  };
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
