/**
 * An endpoint agent as a real child process, for the kill -9 and SIGTERM tests. Its spec (a
 * JSON file named by argv[2]) says where the emulator and the registration function are.
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
import { ControlClient } from "#core/control/index.ts";
import { createLogger } from "#core/logger.ts";

export interface ChildSpec {
  address: string;
  /** The local Lambda Invoke API hosting the registration function, and its name. */
  lambdaUrl: string;
  registrationFunction: string;
  endpointId: string;
  bucket: string;
  queuePrefix: string;
  deadLetterQueueUrl: string;
  config: Partial<SiteConfigInput>;
}

const spec = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as ChildSpec;
const aws = createAwsClients({
  region: "us-east-1",
  endpoints: { sqs: spec.address, s3: spec.address, lambda: spec.lambdaUrl },
  credentials: EMULATOR_CREDENTIALS,
});
const control = new ControlClient({ lambda: aws.lambda, functionName: spec.registrationFunction });
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
