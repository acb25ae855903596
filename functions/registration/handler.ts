import { createAwsClients } from "#core/aws/index.ts";
import { describeError } from "#core/errors.ts";
import type { ControlResponse } from "#core/protocol/index.ts";
import { loadRegistrationConfig } from "./config.ts";
import { createHandler, failure, type RegistrationHandler } from "./dispatch.ts";
import type { UrlResponse } from "./url-event.ts";

// Built on the first invocation and kept for the life of the container (one per cold start).
let handle: RegistrationHandler | undefined;

/** Lambda entry point (FerryStack bundles this file; local/ runs the same bundle). */
export async function handler(event: unknown): Promise<ControlResponse | UrlResponse> {
  if (!handle) {
    try {
      const config = loadRegistrationConfig(process.env);
      const aws = createAwsClients(config.aws);
      handle = createHandler({
        sqs: aws.sqs,
        s3: aws.s3,
        bucket: config.bucket,
        dlqArn: config.dlqArn,
        queuePrefix: config.queuePrefix,
        maxReceiveCount: config.maxReceiveCount,
      });
    } catch (error) {
      // A misconfigured function answers every call with the reason instead of crashing.
      return failure({ type: "Internal", message: describeError(error) });
    }
  }
  return handle(event);
}
