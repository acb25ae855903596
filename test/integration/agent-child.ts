/**
 * An endpoint agent as a real child process, for the kill -9 and SIGTERM tests. Its spec (a
 * JSON file named by argv[2]) says where the emulator is; function records are read from a
 * JSON file on each lookup, standing in for the registration service.
 * Prints "ready" on stdout once the agent is running.
 */
import { readFileSync } from "node:fs";
import {
  EndpointAgent,
  loadSiteConfig,
  type SiteConfigInput,
  serveUntilSignalled,
} from "#agent/index.ts";
import { createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import type { ControlClient } from "#core/control/index.ts";
import { NotFoundError } from "#core/errors.ts";
import { createLogger } from "#core/logger.ts";
import type { FunctionRecord } from "#core/protocol/index.ts";

export interface ChildSpec {
  address: string;
  endpointId: string;
  bucket: string;
  queuePrefix: string;
  deadLetterQueueUrl: string;
  functionsFile: string;
  config: Partial<SiteConfigInput>;
}

const spec = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as ChildSpec;
const aws = createAwsClients({
  region: "us-east-1",
  endpoints: { sqs: spec.address, s3: spec.address },
  credentials: EMULATOR_CREDENTIALS,
});
const control = {
  async call(action: string, request: Record<string, unknown>) {
    if (action === "heartbeat") return { at: Date.now() };
    if (action === "checkCancellations") return { cancelled: [] };
    const records = JSON.parse(readFileSync(spec.functionsFile, "utf8")) as FunctionRecord[];
    const record = records.find((r) => r.name === request.name && r.sha256 === request.sha256);
    if (!record) throw new NotFoundError(`function ${request.name} is not registered`);
    return { function: record };
  },
} as unknown as Pick<ControlClient, "call">;
const logger = createLogger({ component: "endpoint-agent" });
const agent = new EndpointAgent({
  endpointId: spec.endpointId,
  config: await loadSiteConfig(undefined, spec.config),
  deps: {
    sqs: aws.sqs,
    s3: aws.s3,
    control,
    bucket: spec.bucket,
    queuePrefix: spec.queuePrefix,
    deadLetterQueueUrl: spec.deadLetterQueueUrl,
    logger,
  },
});
const serving = serveUntilSignalled(agent, logger);
const wait = setInterval(() => {
  if (agent.state === "running") {
    clearInterval(wait);
    process.stdout.write("ready\n");
  }
}, 10);
await serving;
clearInterval(wait);
aws.destroy();
