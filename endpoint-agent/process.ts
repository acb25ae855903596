import type { Connection } from "#core/connect.ts";
import { ConfigError } from "#core/errors.ts";
import { createLogger, type Logger } from "#core/logger.ts";
import { EndpointAgent } from "./agent.ts";
import { loadSiteConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";

export interface RunAgentProcessOptions {
  /** The endpoint UUID from the command line; wins over the config file's endpointId. */
  endpointId: string | undefined;
  configPath?: string | undefined;
  connection: Connection;
}

/**
 * `ferry endpoint start`: run an agent in this process, with clients from the connection,
 * until SIGTERM or SIGINT drain it. Resolves when it has stopped.
 */
export async function runAgentProcess(options: RunAgentProcessOptions): Promise<void> {
  const config = await loadSiteConfig(options.configPath);
  const endpointId = options.endpointId ?? config.endpointId;
  if (!endpointId) {
    throw new ConfigError("no endpoint id: pass one, or set endpointId in the site config", {
      hint: "run `ferry endpoint register <name>` to get one",
    });
  }
  const { connection } = options;
  const logger = createLogger({ component: "endpoint-agent" });
  if (options.endpointId && config.endpointId && options.endpointId !== config.endpointId) {
    logger.warn(
      { endpointId, configEndpointId: config.endpointId },
      "the site config names another endpoint; serving the one given on the command line",
    );
  }
  const deps: AgentDeps = {
    sqs: connection.aws.sqs,
    s3: connection.aws.s3,
    control: connection.control,
    bucket: connection.deployment.bucketName,
    queuePrefix: connection.deployment.queuePrefix,
    deadLetterQueueUrl: connection.deployment.deadLetterQueueUrl,
    logger,
  };
  const agent = new EndpointAgent({ endpointId, config, deps });
  await serveUntilSignalled(agent, deps.logger);
}

/**
 * Start the agent and keep it running until it stops; SIGTERM/SIGINT make it drain (a second
 * signal does not shorten the bounded grace period).
 */
export async function serveUntilSignalled(agent: EndpointAgent, logger: Logger): Promise<void> {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ endpointId: agent.endpointId, signal }, "signal received: draining");
    void agent.close(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    await agent.start();
    await agent.done;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
