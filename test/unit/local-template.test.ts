import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { synthFerryTemplate } from "#infra/index.ts";
import { type CfnTemplate, type LocalPlan, planFromTemplate } from "#local/index.ts";

// The local emulator is provisioned from the real synthesized template: check the plan it reads.
let plan: LocalPlan;
let assemblyDir: string;
beforeAll(async () => {
  const synth = synthFerryTemplate({ outdir: await mkdtemp(join(tmpdir(), "ferry-synth-")) });
  assemblyDir = synth.assemblyDir;
  plan = planFromTemplate(synth.template as CfnTemplate, {
    region: "us-east-1",
    accountId: "000000000000",
    sqsEndpoint: "http://127.0.0.1:9",
    namePrefix: "ferry-",
  });
}, 120_000);

describe("local plan from the FerryStack template", () => {
  it("creates the bucket, the dead-letter queue and the registration function", () => {
    expect(plan.buckets).toHaveLength(1);
    expect(plan.queues.map((q) => q.name)).toEqual(["ferry-deadletterqueue"]);
    expect(plan.functions).toHaveLength(1);
  });

  it("resolves the function's environment from template references", () => {
    const env = plan.functions[0]?.environment ?? {};
    expect(env.FERRY_BUCKET).toBe(plan.buckets[0]?.name);
    expect(env.FERRY_DLQ_ARN).toBe("arn:aws:sqs:us-east-1:000000000000:ferry-deadletterqueue");
    expect(env.FERRY_QUEUE_PREFIX).toBe("ferry-");
  });

  it("points at the bundle the synth produced", () => {
    const fn = plan.functions[0];
    expect(fn && existsSync(join(assemblyDir, fn.assetPath, "index.mjs"))).toBe(true);
  });

  it("resolves every output the CLI reads", () => {
    expect(plan.outputs).toMatchObject({
      BucketName: plan.buckets[0]?.name,
      DeadLetterQueueUrl: "http://127.0.0.1:9/000000000000/ferry-deadletterqueue",
      QueuePrefix: "ferry-",
      Region: "us-east-1",
    });
  });

  it("refuses an intrinsic it does not know instead of guessing", () => {
    const t: CfnTemplate = {
      Resources: {},
      Outputs: { X: { Value: { "Fn::Sub": "arn:aws:sqs:region" } } },
    };
    expect(() =>
      planFromTemplate(t, {
        region: "r",
        accountId: "1",
        sqsEndpoint: "http://x",
        namePrefix: "p-",
      }),
    ).toThrow(/unsupported template value/);
  });
});
