import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import { type LocalDeployment, startLambdaHost } from "#local/index.ts";
import { type RealismFaults, RealismProxy, type RealismStats } from "../realism/index.ts";
import { sumStats } from "../realism/stats.ts";

/** A deployment file that routes every client and agent through the AWS-realism proxies. */
export interface RealisticDeployment {
  env: NodeJS.ProcessEnv;
  conn: Connection;
  /** What the proxies saw and injected, all three summed. */
  stats(): RealismStats;
  /** What each proxy saw and injected. */
  statsByService(): Record<"sqs" | "s3" | "lambda", RealismStats>;
  setFaults(change: Partial<RealismFaults>): void;
  close(): Promise<void>;
}

export async function startRealistic(
  home: string,
  local: LocalDeployment,
  env: NodeJS.ProcessEnv,
  faults: RealismFaults,
  seed: number,
): Promise<RealisticDeployment> {
  // The registration function's own SQS and S3 calls go through the proxies too: its
  // CreateQueue is what starts AWS's new-queue window. So it runs again, in a second local
  // Lambda host whose environment names the proxies (their Lambda proxy fronts that host).
  const sqs = new RealismProxy({ service: "sqs", upstream: local.sqsEndpointUrl, faults, seed });
  const s3 = new RealismProxy({
    service: "s3",
    upstream: local.s3EndpointUrl,
    faults,
    seed: seed + 1,
  });
  await Promise.all([sqs.listen(), s3.listen()]);
  const host = await startLambdaHost(
    local.functions.map((fn) => ({
      ...fn,
      environment: throughProxies(fn.environment, sqs.url, s3.url),
    })),
  );
  const lambda = new RealismProxy({
    service: "lambda",
    upstream: host.url,
    faults,
    seed: seed + 2,
  });
  await lambda.listen();
  const proxies = [sqs, s3, lambda];
  const file = JSON.parse(await readFile(local.deploymentPath, "utf8")) as Record<
    string,
    Record<string, string>
  >;
  const { LocalAwsEndpointUrl: _shared, ...outputs } = file[local.stackName] ?? {};
  outputs.LocalSqsEndpointUrl = sqs.url;
  outputs.LocalS3EndpointUrl = s3.url;
  outputs.LocalLambdaEndpointUrl = lambda.url;
  if (outputs.RegistrationFunctionUrl)
    outputs.RegistrationFunctionUrl = rehost(outputs.RegistrationFunctionUrl, lambda.url);
  const path = join(home, `deployment-realistic-${seed}.json`);
  await writeFile(path, JSON.stringify({ [local.stackName]: outputs }));
  const realEnv = { ...env, FERRY_DEPLOYMENT: path };
  const conn = await connect(loadEnv(realEnv));
  return {
    env: realEnv,
    conn,
    stats: () => sumStats(proxies.map((p) => p.stats)),
    statsByService: () => ({ sqs: sqs.stats, s3: s3.stats, lambda: lambda.stats }),
    setFaults: (change) => {
      for (const p of proxies) p.setFaults(change);
    },
    close: async () => {
      conn.close();
      await Promise.all(proxies.map((p) => p.close()));
      await host.close();
    },
  };
}

/** The function's environment with its SQS and S3 calls sent to the proxies. */
function throughProxies(
  environment: Record<string, string>,
  sqs: string,
  s3: string,
): Record<string, string> {
  const { AWS_ENDPOINT_URL: _one, ...rest } = environment;
  return { ...rest, AWS_ENDPOINT_URL_SQS: sqs, AWS_ENDPOINT_URL_S3: s3 };
}

/** The same path on another origin (a function URL through a proxy). */
export function rehost(url: string, origin: string): string {
  const u = new URL(url);
  return new URL(u.pathname + u.search, origin).toString();
}
