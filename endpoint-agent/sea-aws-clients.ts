import { type AwsClientOptions, type AwsClients, createAwsClients } from "#core/aws/index.ts";

/**
 * Stands in for core/aws/lazy-clients.ts in the one-file agent (scripts/build-agent.ts swaps it
 * in): that module loads the SDK packages with a require from node_modules, which a site
 * running the one file does not have. Here the packages are imported, so esbuild bundles them,
 * and the agent uses all three clients anyway.
 */
export function createLazyAwsClients(options: AwsClientOptions): AwsClients {
  return createAwsClients(options);
}
