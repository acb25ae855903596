import { ConfigError } from "#core/errors.ts";

/**
 * Reads a synthesized CloudFormation template and turns it into the list of resources the local
 * emulator must create, so the stack stays the one source of truth for what exists.
 * Hand-written because no library evaluates CloudFormation intrinsics offline; only the handful
 * that FerryStack's template uses are supported, and an unknown one is a clear error.
 */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface LocalQueue {
  logicalId: string;
  name: string;
  attributes: Record<string, string>;
}
export interface LocalBucket {
  logicalId: string;
  name: string;
}
export interface LocalFunction {
  logicalId: string;
  name: string;
  /** Bundle directory relative to the cloud assembly (the `aws:asset:path` metadata). */
  assetPath: string;
  handler: string;
  environment: Record<string, string>;
}

export interface LocalPlan {
  buckets: LocalBucket[];
  queues: LocalQueue[];
  functions: LocalFunction[];
  outputs: Record<string, string>;
  /** Resource types present in the template that have no local counterpart (IAM, policies). */
  skipped: string[];
}

export interface PlanContext {
  region: string;
  accountId: string;
  /** The emulator's base URL, used to build queue URLs. */
  sqsEndpoint: string;
  /** Prefix for generated physical names when the template leaves them to CloudFormation. */
  namePrefix: string;
  /** A hosted function's URL (the local Lambda host serves function URLs too). */
  functionUrl?: (functionName: string) => string;
}

const QUEUE_ATTRIBUTES = [
  "VisibilityTimeout",
  "MessageRetentionPeriod",
  "MaximumMessageSize",
  "DelaySeconds",
  "ReceiveMessageWaitTimeSeconds",
] as const;

/** Turn a synthesized template into what the local emulator must create. */
export function planFromTemplate(template: CfnTemplate, ctx: PlanContext): LocalPlan {
  const rc: ResolveContext = { template, ctx, names: physicalNames(template, ctx) };
  const plan: LocalPlan = { buckets: [], queues: [], functions: [], outputs: {}, skipped: [] };
  for (const [id, r] of Object.entries(template.Resources)) {
    const name = rc.names.get(id);
    if (r.Type === "AWS::S3::Bucket" && name) {
      plan.buckets.push({ logicalId: id, name });
    } else if (r.Type === "AWS::SQS::Queue" && name) {
      plan.queues.push(localQueue(rc, id, r, name));
    } else if (r.Type === "AWS::Lambda::Function" && name) {
      plan.functions.push(localFunction(rc, id, r, name));
    } else if (!plan.skipped.includes(r.Type)) {
      plan.skipped.push(r.Type);
    }
  }
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    plan.outputs[key] = resolveValue(rc, output.Value);
  }
  return plan;
}

/** What resolving a template value needs: the template, the plan context, physical names. */
interface ResolveContext {
  template: CfnTemplate;
  ctx: PlanContext;
  /** Physical name of each bucket, queue and function, by logical id. */
  names: Map<string, string>;
}

function physicalNames(template: CfnTemplate, ctx: PlanContext): Map<string, string> {
  const names = new Map<string, string>();
  const physicalName = (id: string, r: CfnResource, key: string) => {
    const given = r.Properties?.[key];
    return typeof given === "string" ? given : `${ctx.namePrefix}${id.toLowerCase()}`.slice(0, 63);
  };
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === "AWS::S3::Bucket") names.set(id, physicalName(id, r, "BucketName"));
    else if (r.Type === "AWS::SQS::Queue") names.set(id, physicalName(id, r, "QueueName"));
    else if (r.Type === "AWS::Lambda::Function") names.set(id, physicalName(id, r, "FunctionName"));
  }
  return names;
}

function localQueue(rc: ResolveContext, id: string, r: CfnResource, name: string): LocalQueue {
  const attributes: Record<string, string> = {};
  for (const key of QUEUE_ATTRIBUTES) {
    const v = r.Properties?.[key];
    if (v !== undefined) attributes[key] = resolveValue(rc, v);
  }
  const redrive = r.Properties?.RedrivePolicy as Record<string, unknown> | undefined;
  if (redrive) {
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: resolveValue(rc, redrive.deadLetterTargetArn),
      maxReceiveCount: Number(redrive.maxReceiveCount),
    });
  }
  return { logicalId: id, name, attributes };
}

function localFunction(
  rc: ResolveContext,
  id: string,
  r: CfnResource,
  name: string,
): LocalFunction {
  const assetPath = r.Metadata?.["aws:asset:path"];
  if (typeof assetPath !== "string") {
    throw new ConfigError(
      `local emulator: function ${id} has no aws:asset:path metadata; synthesize with asset metadata enabled`,
    );
  }
  const env =
    ((r.Properties?.Environment as Record<string, unknown> | undefined)?.Variables as
      | Record<string, unknown>
      | undefined) ?? {};
  return {
    logicalId: id,
    name,
    assetPath,
    handler: String(r.Properties?.Handler ?? "index.handler"),
    environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, resolveValue(rc, v)])),
  };
}

function arnOf(rc: ResolveContext, service: string, resource: string): string {
  return `arn:aws:${service}:${rc.ctx.region}:${rc.ctx.accountId}:${resource}`;
}

/** A template value as a string: literals, and the intrinsics FerryStack's template uses. */
function resolveValue(rc: ResolveContext, value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (value && typeof value === "object") {
    const [fn, arg] = Object.entries(value)[0] ?? [];
    if (fn === "Ref" && typeof arg === "string") return refOf(rc, arg);
    if (fn === "Fn::GetAtt" && Array.isArray(arg))
      return getAttOf(rc, String(arg[0]), String(arg[1]));
    if (fn === "Fn::Join" && Array.isArray(arg) && Array.isArray(arg[1])) {
      return (arg[1] as unknown[]).map((part) => resolveValue(rc, part)).join(String(arg[0]));
    }
  }
  throw new ConfigError(`local emulator: unsupported template value ${JSON.stringify(value)}`);
}

function refOf(rc: ResolveContext, id: string): string {
  const { ctx } = rc;
  const pseudo: Record<string, string> = {
    "AWS::Region": ctx.region,
    "AWS::AccountId": ctx.accountId,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": ctx.namePrefix.replace(/-$/, ""),
  };
  if (pseudo[id] !== undefined) return pseudo[id];
  const r = rc.template.Resources[id];
  const name = rc.names.get(id);
  if (!r) throw new ConfigError(`local emulator: template refers to missing resource ${id}`);
  if (r.Type === "AWS::SQS::Queue" && name) return `${ctx.sqsEndpoint}/${ctx.accountId}/${name}`;
  if (name) return name;
  // IAM policies and the like: their ARN stands in for the physical id.
  return arnOf(rc, "iam", `policy/${id}`);
}

function getAttOf(rc: ResolveContext, id: string, attribute: string): string {
  const r = rc.template.Resources[id];
  if (r?.Type === "AWS::Lambda::Url" && attribute === "FunctionUrl") {
    const target = resolveValue(rc, r.Properties?.TargetFunctionArn);
    const fn = target.split(":function:").at(-1) ?? target;
    // Before the Lambda host has a port, a placeholder: outputs are resolved again after.
    return rc.ctx.functionUrl?.(fn) ?? `http://127.0.0.1:0/urls/${fn}/`;
  }
  const name = rc.names.get(id);
  if (!r || !name) return `${refOf(rc, id)}`;
  if (attribute === "Arn" && r.Type === "AWS::SQS::Queue") return arnOf(rc, "sqs", name);
  if (attribute === "QueueName") return name;
  if (attribute === "QueueUrl") return refOf(rc, id);
  if (attribute === "Arn" && r.Type === "AWS::S3::Bucket") return `arn:aws:s3:::${name}`;
  if (attribute === "Arn" && r.Type === "AWS::Lambda::Function")
    return arnOf(rc, "lambda", `function:${name}`);
  throw new ConfigError(`local emulator: unsupported attribute ${id}.${attribute}`);
}
