import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ConfigError } from "../errors.ts";

/**
 * The outputs of FerryStack, read from a `cdk deploy --outputs-file` JSON
 * (`{ "<StackName>": { "<OutputKey>": "<value>" } }`). The local emulator writes the same
 * file, adding the endpoints it serves on.
 */
export const StackOutputs = z.object({
  BucketName: z.string().min(1),
  DeadLetterQueueUrl: z.string().min(1),
  DeadLetterQueueArn: z.string().min(1),
  RegistrationFunctionName: z.string().min(1),
  /** The registration function's URL (AWS_IAM auth); older deployment files have none. */
  RegistrationFunctionUrl: z.string().optional(),
  QueuePrefix: z.string().min(1),
  Region: z.string().min(1),
  EndpointPolicyArn: z.string().optional(),
  ClientPolicyArn: z.string().optional(),
  /**
   * Written by `ferry local up` when one emulator serves both SQS and S3 (and by older Ferry
   * versions always); LocalSqsEndpointUrl / LocalS3EndpointUrl win over it.
   */
  LocalAwsEndpointUrl: z.string().optional(),
  /** Written only by `ferry local up`: the local SQS endpoint. */
  LocalSqsEndpointUrl: z.string().optional(),
  /** Written only by `ferry local up`: the local S3 endpoint. */
  LocalS3EndpointUrl: z.string().optional(),
  /** Written only by `ferry local up`: the local Lambda Invoke API. */
  LocalLambdaEndpointUrl: z.string().optional(),
});
export type StackOutputs = z.infer<typeof StackOutputs>;

export interface Deployment {
  stackName: string;
  region: string;
  bucketName: string;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
  registrationFunctionName: string;
  /** Control calls go here, signed, so the control plane knows the caller. */
  registrationFunctionUrl: string | undefined;
  queuePrefix: string;
  /** Service endpoints recorded by a local deployment; real AWS has none. */
  endpoints: { sqs?: string; s3?: string; lambda?: string };
  isLocal: boolean;
}

export const NO_DEPLOYMENT_HINT =
  "run `ferry local up` for a local one, or `npx cdk deploy --outputs-file <path>` and set FERRY_DEPLOYMENT=<path>";

export function deploymentFromOutputs(file: unknown, stackName?: string): Deployment {
  const stacks = z.record(z.string(), z.record(z.string(), z.unknown())).safeParse(file);
  if (!stacks.success) throw new ConfigError("deployment file is not a stack outputs JSON");
  const names = Object.keys(stacks.data).filter((n) => stacks.data[n]?.BucketName !== undefined);
  const name = stackName ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) {
    throw new ConfigError(
      names.length === 0
        ? "deployment file names no Ferry stack"
        : `deployment file names several stacks (${names.join(", ")})`,
      { hint: "set FERRY_STACK to the one to use" },
    );
  }
  const parsed = StackOutputs.safeParse(stacks.data[name]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`deployment file: stack ${name} lacks output ${String(issue?.path[0])}`, {
      hint: "redeploy with `npx cdk deploy --outputs-file <path>`",
    });
  }
  const o = parsed.data;
  const endpoints: Deployment["endpoints"] = {};
  const sqs = o.LocalSqsEndpointUrl ?? o.LocalAwsEndpointUrl;
  const s3 = o.LocalS3EndpointUrl ?? o.LocalAwsEndpointUrl;
  if (sqs) endpoints.sqs = sqs;
  if (s3) endpoints.s3 = s3;
  if (o.LocalLambdaEndpointUrl) endpoints.lambda = o.LocalLambdaEndpointUrl;
  return {
    stackName: name,
    region: o.Region,
    bucketName: o.BucketName,
    deadLetterQueueUrl: o.DeadLetterQueueUrl,
    deadLetterQueueArn: o.DeadLetterQueueArn,
    registrationFunctionName: o.RegistrationFunctionName,
    registrationFunctionUrl: o.RegistrationFunctionUrl,
    queuePrefix: o.QueuePrefix,
    endpoints,
    isLocal: Boolean(endpoints.sqs || endpoints.s3 || endpoints.lambda),
  };
}

export async function readDeployment(path: string, stackName?: string): Promise<Deployment> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new ConfigError(`no Ferry deployment found at ${path}`, {
      cause,
      hint: NO_DEPLOYMENT_HINT,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`deployment file ${path} is not valid JSON`, {
      cause,
      hint: NO_DEPLOYMENT_HINT,
    });
  }
  return deploymentFromOutputs(json, stackName);
}
