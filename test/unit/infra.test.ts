import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StackOutputs } from "#core/config/index.ts";
import { liveLogLocation } from "#core/store/index.ts";
import { CALLER_USER_ID, OWN_ENDPOINT_ID } from "#infra/access-policies.ts";
import { FERRY_LOGICAL_IDS, FerryStack, type FerryStackProps } from "#infra/ferry-stack.ts";
import { synthFerryTemplate } from "#infra/synth.ts";

const outdirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ferry-infra-test-"));
  outdirs.push(dir);
  return dir;
}

/** Variants skip esbuild (bundling-stacks: []) so that only one test pays for a bundle. */
function templateOf(props: FerryStackProps = {}, bundle = false, stackName = "Ferry"): Template {
  const app = new App({
    outdir: tempDir(),
    context: bundle ? {} : { "aws:cdk:bundling-stacks": [] },
  });
  return Template.fromStack(new FerryStack(app, stackName, props));
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

function statementsOf(template: Template, logicalId: string): Statement[] {
  const resource = template.toJSON().Resources[logicalId];
  return resource.Properties.PolicyDocument.Statement;
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The literal tail of a resource ARN (after the last token), e.g. ":ferry-tasks-*" or "/store/*". */
function resourceTails(s: Statement): string[] {
  const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
  return resources.map((r) => {
    if (typeof r === "string") return r;
    const join = (r as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
    if (join) return String(join[1].at(-1));
    return JSON.stringify(r);
  });
}

const DESTRUCTIVE = ["sqs:DeleteQueue", "s3:DeleteBucket", "sqs:*", "s3:*", "*"];

/** Throws if a policy could delete queues or the bucket, or reaches beyond Ferry's prefixes. */
function checkScoped(statements: Statement[], prefix: string): void {
  if (statements.length === 0) throw new Error("no statements");
  const allowedTails = [
    `:${prefix}tasks-*`,
    `:${prefix}results-*`,
    "/store/*",
    "/tmp/*",
    `/store/${CALLER_USER_ID}/*`,
    `/tmp/${CALLER_USER_ID}/*`,
    "/functions/*",
    JSON.stringify({ "Fn::GetAtt": [FERRY_LOGICAL_IDS.deadLetterQueue, "Arn"] }),
    JSON.stringify({ "Fn::GetAtt": [FERRY_LOGICAL_IDS.registrationFunction, "Arn"] }),
  ];
  for (const s of statements) {
    expect(s.Effect).toBe("Allow");
    for (const action of actionsOf(s)) expect(DESTRUCTIVE).not.toContain(action);
    for (const tail of resourceTails(s)) expect(allowedTails).toContain(tail);
  }
}

function statementWith(statements: Statement[], action: string): Statement {
  const found = statements.find((s) => actionsOf(s).includes(action));
  if (!found) throw new Error(`no statement allows ${action}`);
  return found;
}

describe("FerryStack", () => {
  let template: Template;

  beforeAll(() => {
    template = templateOf({}, true);
  });

  afterAll(() => {
    for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
  });

  it("encrypts the store bucket, blocks public access and keeps it on stack deletion", () => {
    template.hasResource("AWS::S3::Bucket", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      }),
    });
  });

  it("denies requests without TLS in the bucket policy", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: FERRY_LOGICAL_IDS.bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "s3:*",
            Principal: { AWS: "*" },
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  it("expires temporary objects after the task queues' retention, parked results, and incomplete uploads", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          // A task may wait 14 days in its queue: its tmp/ arguments must outlive it.
          Match.objectLike({ Prefix: "tmp/", ExpirationInDays: 15, Status: "Enabled" }),
          Match.objectLike({ Prefix: "registry/parked/", ExpirationInDays: 30 }),
          Match.objectLike({
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: "Enabled",
          }),
        ]),
      },
    });
    templateOf({ temporaryObjectExpiryDays: 20 }).hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: "tmp/", ExpirationInDays: 20 })]),
      },
    });
    expect(() => templateOf({ temporaryObjectExpiryDays: 7 })).toThrow(
      /temporaryObjectExpiryDays must be an integer over 14: a task may wait 14 days/,
    );
  });

  it("leaves the dead-letter queue's name to CloudFormation, with 14 days of retention", () => {
    template.resourceCountIs("AWS::SQS::Queue", 1);
    const [dlq] = Object.values(template.findResources("AWS::SQS::Queue")) as Array<{
      Properties: Record<string, unknown>;
    }>;
    // A fixed name fails a second stack in the account, and a redeploy after destroy (the
    // queue is retained).
    expect(dlq?.Properties.QueueName).toBeUndefined();
    expect(dlq?.Properties.MessageRetentionPeriod).toBe(1_209_600);
  });

  it("a second stack gets queue names of its own by default", () => {
    const other = templateOf({}, false, "FerryLab");
    expect(other.toJSON().Outputs.QueuePrefix.Value).toBe("ferrylab-");
    checkScoped(statementsOf(other, FERRY_LOGICAL_IDS.multiEndpointPolicy), "ferrylab-");
  });

  it("reserves the registration Lambda's concurrency only when asked", () => {
    const fn = () =>
      Object.values(template.findResources("AWS::Lambda::Function"))[0] as {
        Properties: Record<string, unknown>;
      };
    expect(fn().Properties.ReservedConcurrentExecutions).toBeUndefined();
    templateOf({ registrationReservedConcurrency: 20 }).hasResourceProperties(
      "AWS::Lambda::Function",
      { ReservedConcurrentExecutions: 20 },
    );
  });

  it("runs the registration Lambda on Node 24 with its environment", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      Handler: "index.handler",
      MemorySize: 256,
      Timeout: 30,
      Environment: {
        Variables: Match.objectLike({
          FERRY_BUCKET: { Ref: FERRY_LOGICAL_IDS.bucket },
          FERRY_DLQ_ARN: { "Fn::GetAtt": [FERRY_LOGICAL_IDS.deadLetterQueue, "Arn"] },
          FERRY_QUEUE_PREFIX: "ferry-",
          FERRY_MAX_RECEIVE_COUNT: "5",
        }),
      },
    });
    templateOf({ maxReceiveCount: 9 }).hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ FERRY_MAX_RECEIVE_COUNT: "9" }) },
    });
  });

  it("lets the Lambda manage only the queues it creates and the registry, never the DLQ", () => {
    const role = template.findResources("AWS::IAM::Policy");
    const statements = Object.values(role).flatMap(
      (r) =>
        (r as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
          .PolicyDocument.Statement,
    );
    const queues = statementWith(statements, "sqs:CreateQueue");
    expect(actionsOf(queues)).toContain("sqs:DeleteQueue");
    // Not ":ferry-*": that would reach the dead-letter queue and any stack named "ferry-...".
    expect(resourceTails(queues)).toEqual([":ferry-tasks-*", ":ferry-results-*"]);
    const registry = statementWith(statements, "s3:PutObject");
    expect(resourceTails(registry)).toEqual(["/registry/*"]);
    expect(statements.flatMap(actionsOf)).not.toContain("s3:DeleteBucket");
    // Without it S3 answers 403 for a missing record, and NotFound could not be told apart.
    expect(statementWith(statements, "s3:ListBucket").Resource).toEqual({
      "Fn::GetAtt": [FERRY_LOGICAL_IDS.bucket, "Arn"],
    });
  });

  it("the multi-endpoint policy: every task queue of the prefix, without deleting queues or the bucket", () => {
    const statements = statementsOf(template, FERRY_LOGICAL_IDS.multiEndpointPolicy);
    checkScoped(statements, "ferry-");
    expect(resourceTails(statementWith(statements, "sqs:ReceiveMessage"))).toEqual([
      ":ferry-tasks-*",
    ]);
    expect(actionsOf(statementWith(statements, "sqs:ReceiveMessage"))).toEqual(
      expect.arrayContaining(["sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]),
    );
    expect(resourceTails(statementWith(statements, "sqs:SendMessage"))).toEqual([
      ":ferry-results-*",
      JSON.stringify({ "Fn::GetAtt": [FERRY_LOGICAL_IDS.deadLetterQueue, "Arn"] }),
    ]);
    expect(statements.flatMap(actionsOf)).toContain("lambda:InvokeFunction");
    // A different prefix moves the scope with it.
    const lab = templateOf({ queuePrefix: "lab-" });
    checkScoped(statementsOf(lab, FERRY_LOGICAL_IDS.multiEndpointPolicy), "lab-");
  });

  it("the endpoint policy (the default): only the caller's own task queue, by principal tag", () => {
    const statements = statementsOf(template, FERRY_LOGICAL_IDS.endpointPolicy);
    const own = `:ferry-tasks-${OWN_ENDPOINT_ID}`;
    for (const s of statements) {
      expect(s.Effect).toBe("Allow");
      for (const action of actionsOf(s)) expect(DESTRUCTIVE).not.toContain(action);
      // No wildcard over task queues: another endpoint's queue is out of reach.
      expect(resourceTails(s)).not.toContain(":ferry-tasks-*");
    }
    const consume = statementWith(statements, "sqs:ReceiveMessage");
    expect(resourceTails(consume)).toEqual([own]);
    for (const action of ["sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"]) {
      expect(resourceTails(statementWith(statements, action))).toEqual([own]);
    }
    // Everything else it may do is what the unscoped policy allows, within Ferry's prefixes.
    const others = statements.filter((s) => s !== consume);
    checkScoped(others, "ferry-");
    expect(statements.flatMap(actionsOf)).not.toContain("sqs:DeleteQueue");
    expect(statements.flatMap(actionsOf)).not.toContain("s3:DeleteBucket");
    expect(template.toJSON().Outputs.EndpointPolicyArn.Value).toEqual({
      Ref: FERRY_LOGICAL_IDS.endpointPolicy,
    });
  });

  it("no Ferry policy lets an endpoint or client delete a queue, the bucket, or the registry", () => {
    for (const id of [
      FERRY_LOGICAL_IDS.endpointPolicy,
      FERRY_LOGICAL_IDS.multiEndpointPolicy,
      FERRY_LOGICAL_IDS.clientPolicy,
    ]) {
      const statements = statementsOf(template, id);
      const actions = statements.flatMap(actionsOf);
      for (const forbidden of ["sqs:DeleteQueue", "sqs:PurgeQueue", "sqs:SetQueueAttributes"]) {
        expect(actions).not.toContain(forbidden);
      }
      expect(actions.filter((a) => a.startsWith("s3:") && a.includes("Bucket"))).toEqual([]);
      // Deleting objects reaches only store/ and tmp/ (a client: its own part), never
      // registry/ or functions/.
      for (const s of statements.filter((s) => actionsOf(s).includes("s3:DeleteObject"))) {
        const tails = resourceTails(s).sort();
        const mine = [`/store/${CALLER_USER_ID}/*`, `/tmp/${CALLER_USER_ID}/*`];
        expect(id === FERRY_LOGICAL_IDS.clientPolicy ? mine : ["/store/*", "/tmp/*"]).toEqual(
          tails,
        );
      }
    }
  });

  it("the client policy: its own sessions' result queues (by owner tag) and its own objects", () => {
    const statements = statementsOf(template, FERRY_LOGICAL_IDS.clientPolicy);
    checkScoped(statements, "ferry-");
    expect(resourceTails(statementWith(statements, "sqs:SendMessage"))).toEqual([":ferry-tasks-*"]);
    const receive = statementWith(statements, "sqs:ReceiveMessage");
    expect(resourceTails(receive)).toEqual([":ferry-results-*"]);
    expect((receive as { Condition?: unknown }).Condition).toEqual({
      StringEquals: { "aws:ResourceTag/ferry:owner": CALLER_USER_ID },
    });
    const objects = statementWith(statements, "s3:GetObject");
    expect(resourceTails(objects).sort()).toEqual([
      `/store/${CALLER_USER_ID}/*`,
      `/tmp/${CALLER_USER_ID}/*`,
    ]);
  });

  it("live logs: agents may write the key, and only the session's owner may read it", () => {
    const key = liveLogLocation(
      "AROAEXAMPLE:alice",
      "01a230f8-93ae-7173-b31a-7cea50521ec9",
      "01a230f8-93bc-74c5-a848-7135b2af5a92",
    );
    // The owner's segment stands where the client policy's ${aws:userid} does.
    expect(key.startsWith("tmp/AROAEXAMPLE:alice/")).toBe(true);
    const client = statementWith(
      statementsOf(template, FERRY_LOGICAL_IDS.clientPolicy),
      "s3:GetObject",
    );
    expect(resourceTails(client)).toContain(`/tmp/${CALLER_USER_ID}/*`);
    const endpoint = statementWith(
      statementsOf(template, FERRY_LOGICAL_IDS.endpointPolicy),
      "s3:PutObject",
    );
    expect(resourceTails(endpoint)).toContain("/tmp/*");
  });

  it("the scope check rejects a destructive or unscoped statement", () => {
    const read: Statement = { Effect: "Allow", Action: "sqs:ReceiveMessage", Resource: "x" };
    expect(() => checkScoped([], "ferry-")).toThrow();
    expect(() =>
      checkScoped([{ ...read, Action: ["sqs:DeleteQueue"], Resource: ":ferry-tasks-*" }], "ferry-"),
    ).toThrow();
    expect(() => checkScoped([{ ...read, Resource: ":other-tasks-*" }], "ferry-")).toThrow();
  });

  it("outputs exactly what a deployment file needs", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const expected = [
      "BucketName",
      "ClientPolicyArn",
      "DeadLetterQueueArn",
      "DeadLetterQueueUrl",
      "EndpointPolicyArn",
      "MultiEndpointPolicyArn",
      "QueuePrefix",
      "Region",
      "RegistrationFunctionName",
      "RegistrationFunctionUrl",
    ];
    expect(Object.keys(outputs).sort()).toEqual(expected);
    // Every key the deployment schema requires is among them.
    const required = Object.entries(StackOutputs.shape)
      .filter(([, schema]) => !schema.safeParse(undefined).success)
      .map(([key]) => key);
    expect(expected).toEqual(expect.arrayContaining(required));
    expect(outputs.Region?.Value).toEqual({ Ref: "AWS::Region" });
    expect(outputs.QueuePrefix?.Value).toBe("ferry-");
    expect(outputs.RegistrationFunctionName?.Value).toEqual({
      Ref: FERRY_LOGICAL_IDS.registrationFunction,
    });
  });

  it("serves the control plane at a function URL with AWS_IAM auth, and grants only that way in", () => {
    template.hasResourceProperties("AWS::Lambda::Url", {
      AuthType: "AWS_IAM",
      TargetFunctionArn: { "Fn::GetAtt": [FERRY_LOGICAL_IDS.registrationFunction, "Arn"] },
    });
    expect(template.toJSON().Outputs.RegistrationFunctionUrl.Value).toEqual({
      "Fn::GetAtt": [FERRY_LOGICAL_IDS.registrationFunctionUrl, "FunctionUrl"],
    });
    for (const id of [
      FERRY_LOGICAL_IDS.endpointPolicy,
      FERRY_LOGICAL_IDS.multiEndpointPolicy,
      FERRY_LOGICAL_IDS.clientPolicy,
    ]) {
      const lambda = statementsOf(template, id).filter((s) =>
        actionsOf(s).some((a) => a.startsWith("lambda:")),
      );
      // A direct Invoke carries no caller identity: granted only as part of a URL call.
      expect(lambda).toHaveLength(2);
      const url = statementWith(lambda, "lambda:InvokeFunctionUrl");
      expect((url as { Condition?: unknown }).Condition).toEqual({
        StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" },
      });
      const invoke = statementWith(lambda, "lambda:InvokeFunction");
      expect((invoke as { Condition?: unknown }).Condition).toEqual({
        Bool: { "lambda:InvokedViaFunctionUrl": "true" },
      });
    }
  });

  it("refuses a queue prefix that cannot name a queue", () => {
    expect(() => templateOf({ queuePrefix: "bad prefix" })).toThrow(/queuePrefix/);
    expect(() => templateOf({ maxReceiveCount: 0 })).toThrow(/maxReceiveCount/);
  });
});

describe("synthFerryTemplate", () => {
  it("writes the template and the bundled handler, which answers without configuration", async () => {
    const outdir = tempDir();
    const result = synthFerryTemplate({ outdir, stackName: "Local", queuePrefix: "loc-" });
    expect(result.assemblyDir).toBe(outdir);
    expect(JSON.parse(readFileSync(result.templatePath, "utf8"))).toEqual(result.template);
    const resources = (result.template as { Resources: Record<string, { Type: string }> })
      .Resources;
    expect(resources[FERRY_LOGICAL_IDS.deadLetterQueue]?.Type).toBe("AWS::SQS::Queue");
    expect(result.registrationBundlePath).toMatch(/asset\.[0-9a-f]+\/index\.mjs$/);
    expect(existsSync(result.registrationBundlePath)).toBe(true);

    const bundle = (await import(result.registrationBundlePath)) as {
      handler: (event: unknown) => Promise<unknown>;
    };
    const names = ["FERRY_BUCKET", "FERRY_DLQ_ARN", "FERRY_QUEUE_PREFIX"];
    const saved = names.map((name) => process.env[name]);
    try {
      for (const name of names) delete process.env[name];
      const response = await bundle.handler({ v: 1, action: "listEndpoints" });
      expect(response).toMatchObject({ v: 1, ok: false, error: { type: "Internal" } });
      expect(JSON.stringify(response)).toMatch(/FERRY_BUCKET, FERRY_DLQ_ARN, FERRY_QUEUE_PREFIX/);
    } finally {
      names.forEach((name, i) => {
        if (saved[i] !== undefined) process.env[name] = saved[i];
      });
    }
  });
});

// The emulator does not enforce IAM, so a missing grant only shows on real AWS: derive the
// actions from the SDK commands each side's code actually sends.
/** Run with the deployer's own credentials (before `cdk destroy`), not a Ferry policy. */
const ADMIN_ONLY = new Set(["cli/commands/deployment.ts"]);

async function actionsCalledIn(dirs: string[]): Promise<string[]> {
  const { readdir, readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const commands = new Set<string>();
  for (const dir of dirs) {
    for (const entry of await readdir(dir, { recursive: true })) {
      if (!entry.endsWith(".ts") || ADMIN_ONLY.has(join(dir, entry))) continue;
      const text = await readFile(join(dir, entry), "utf8");
      for (const m of text.matchAll(/new (\w+)Command\(/g)) if (m[1]) commands.add(m[1]);
      if (text.includes("new Upload(")) commands.add("PutObject");
    }
  }
  const s3 = new Set(["GetObject", "PutObject", "DeleteObject", "HeadObject"]);
  return [...commands]
    .filter((c) => c !== "Invoke")
    .map((c) => {
      const base = c.replace(/Batch$/, "");
      if (base === "HeadObject") return "s3:GetObject";
      return s3.has(base) ? `s3:${base}` : `sqs:${base}`;
    });
}

describe("each managed policy grants what its side's code calls", () => {
  it("the endpoint policy: every SQS and S3 command in endpoint-agent/, core/store/ and core/aws/", async () => {
    // core/aws holds the agent's batch calls (SendMessageBatch, DeleteMessageBatch, ...).
    const needed = await actionsCalledIn(["endpoint-agent", "core/store", "core/aws"]);
    expect(needed.length).toBeGreaterThan(4);
    const granted = statementsOf(templateOf({}), FERRY_LOGICAL_IDS.endpointPolicy).flatMap(
      actionsOf,
    );
    for (const action of needed) expect(granted, action).toContain(action);
  });

  it("the registration role: every SQS command in functions/registration/, on task queues", async () => {
    // SetQueueAttributes included: it writes each group queue's resource policy (its members).
    const needed = (await actionsCalledIn(["functions/registration"])).filter(
      (a) => a.startsWith("sqs:") && !a.includes("Object"),
    );
    expect(needed).toContain("sqs:SetQueueAttributes");
    const policies = templateOf({}).findResources("AWS::IAM::Policy");
    const statements = Object.values(policies).flatMap(
      (r) =>
        (r as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
          .PolicyDocument.Statement,
    );
    const queues = statementWith(statements, "sqs:CreateQueue");
    for (const action of needed) expect(actionsOf(queues), action).toContain(action);
    expect(resourceTails(queues)).toContain(":ferry-tasks-*");
  });

  it("the client policy: every SQS and S3 command in cli/, sdk/ and core/store/", async () => {
    const needed = await actionsCalledIn(["cli", "sdk", "core/store"]);
    expect(needed).toContain("sqs:SendMessage");
    const granted = statementsOf(templateOf({}), FERRY_LOGICAL_IDS.clientPolicy).flatMap(actionsOf);
    for (const action of needed) expect(granted, action).toContain(action);
  });
});
