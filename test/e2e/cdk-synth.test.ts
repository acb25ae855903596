// `npx cdk synth` must work on a fresh machine with no network and no AWS credentials.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

it("cdk synth writes the Ferry template offline without credentials", async () => {
  const out = await mkdtemp(join(tmpdir(), "ferry-cdk-"));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: await mkdtemp(join(tmpdir(), "ferry-home-")),
    CDK_DISABLE_CLI_TELEMETRY: "true",
    CDK_DISABLE_VERSION_CHECK: "1",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  await promisify(execFile)("npx", ["cdk", "synth", "--no-notices", "--quiet", "-o", out], {
    env,
    timeout: 120_000,
  });
  const templateFile = join(out, "Ferry.template.json");
  expect(existsSync(templateFile)).toBe(true);
  const template = JSON.parse(readFileSync(templateFile, "utf8")) as {
    Outputs: Record<string, unknown>;
  };
  expect(Object.keys(template.Outputs)).toEqual(
    expect.arrayContaining([
      "BucketName",
      "DeadLetterQueueUrl",
      "RegistrationFunctionName",
      "QueuePrefix",
    ]),
  );
}, 180_000);
