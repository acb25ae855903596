import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { loadEnv } from "#core/config/index.ts";
import { type LocalDeployment, startLocal } from "#local/index.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** FERRY_HOME for child processes. */
    ferryHome: string;
    /** The deployment file every test reads, as the CLI and agents do. */
    deploymentPath: string;
    /** The local deployment's registration bundle (its CDK asset); "" for an external one. */
    registrationBundle: string;
  }
}

/**
 * One deployment for the whole suite. By default the embedded local one (fauxqs + the
 * registration bundle; FERRY_LOCAL_BACKEND=compat for local-aws-sqs + s3rver); with
 * FERRY_TEST_DEPLOYMENT=<outputs file> (and AWS_ENDPOINT_URL for LocalStack) the same tests run
 * against that deployment instead.
 */
export default async function setup(project: TestProject) {
  const home = await mkdtemp(join(tmpdir(), "ferry-test-"));
  let local: LocalDeployment | undefined;
  const external = process.env.FERRY_TEST_DEPLOYMENT;
  if (external) {
    project.provide("deploymentPath", external);
  } else {
    local = await startLocal({ home, backend: loadEnv().localBackend ?? "fauxqs" });
    project.provide("deploymentPath", local.deploymentPath);
  }
  project.provide("ferryHome", home);
  const registration = local?.functions.find((fn) => fn.exportName === "handler");
  project.provide("registrationBundle", registration?.bundleFile ?? "");
  return async () => {
    await local?.stop();
    await rm(home, { recursive: true, force: true });
  };
}
