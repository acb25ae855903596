import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  awsOptionsFor,
  deploymentFromOutputs,
  loadEnv,
  readDeployment,
} from "#core/config/index.ts";
import { ConfigError } from "#core/errors.ts";

const outputs = {
  BucketName: "b",
  DeadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/1/ferry-dlq",
  DeadLetterQueueArn: "arn:aws:sqs:eu-west-1:1:ferry-dlq",
  RegistrationFunctionName: "fn",
  QueuePrefix: "ferry-",
  Region: "eu-west-1",
};

describe("deployment file", () => {
  it("reads a cdk --outputs-file with one stack", () => {
    const d = deploymentFromOutputs({ Ferry: outputs });
    expect(d).toMatchObject({
      stackName: "Ferry",
      bucketName: "b",
      region: "eu-west-1",
      isLocal: false,
    });
    expect(d.endpoints).toEqual({});
  });

  it("takes the local emulator's endpoints when recorded", () => {
    const d = deploymentFromOutputs({
      Ferry: {
        ...outputs,
        LocalAwsEndpointUrl: "http://127.0.0.1:1",
        LocalLambdaEndpointUrl: "http://127.0.0.1:2",
      },
    });
    expect(d.endpoints).toEqual({
      sqs: "http://127.0.0.1:1",
      s3: "http://127.0.0.1:1",
      lambda: "http://127.0.0.1:2",
    });
    expect(d.isLocal).toBe(true);
  });

  it("names the missing output", () => {
    const { BucketName: _drop, ...rest } = outputs;
    expect(() => deploymentFromOutputs({ Ferry: { ...rest, BucketName: undefined } })).toThrow(
      /names no Ferry stack/,
    );
    const { QueuePrefix: _q, ...noPrefix } = outputs;
    expect(() => deploymentFromOutputs({ Ferry: noPrefix })).toThrow(/lacks output QueuePrefix/);
  });

  it("asks which stack when there are several", () => {
    let err: unknown;
    try {
      deploymentFromOutputs({ A: outputs, B: outputs });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).toOneLine()).toMatch(/several stacks \(A, B\).*FERRY_STACK/);
    expect(
      deploymentFromOutputs({ A: outputs, B: { ...outputs, BucketName: "bb" } }, "B").bucketName,
    ).toBe("bb");
  });

  it("a missing file says how to make one", async () => {
    const err = await readDeployment("/nonexistent/deployment.json").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).toOneLine()).toMatch(/no Ferry deployment found.*ferry local up/);
  });

  it("a corrupt file is a clear error", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-cfg-"));
    await writeFile(join(dir, "d.json"), "{oops");
    await expect(readDeployment(join(dir, "d.json"))).rejects.toThrow(/not valid JSON/);
  });
});

describe("environment loader", () => {
  it("fills defaults and prefers service-specific endpoints", () => {
    const env = loadEnv({
      HOME: "/h",
      FERRY_HOME: "/x",
      AWS_ENDPOINT_URL: "http://a:1",
      AWS_ENDPOINT_URL_S3: "http://s:2",
    });
    expect(env.deploymentPath).toBe("/x/deployment.json");
    expect(env.endpoints).toEqual({ sqs: "http://a:1", s3: "http://s:2", lambda: "http://a:1" });
  });

  it("names a bad variable", () => {
    expect(() => loadEnv({ AWS_ENDPOINT_URL: "not a url" })).toThrow(/AWS_ENDPOINT_URL is invalid/);
  });

  it("explicit endpoints beat the deployment's, and emulators get dummy credentials", () => {
    const d = deploymentFromOutputs({
      Ferry: { ...outputs, LocalAwsEndpointUrl: "http://127.0.0.1:1" },
    });
    const opts = awsOptionsFor(loadEnv({ AWS_ENDPOINT_URL: "http://localstack:4566" }), d);
    expect(opts.endpoints?.sqs).toBe("http://localstack:4566");
    expect(opts.credentials?.accessKeyId).toBe("test");
    const real = awsOptionsFor(loadEnv({}), deploymentFromOutputs({ Ferry: outputs }));
    expect(real.credentials).toBeUndefined();
    expect(real.region).toBe("eu-west-1");
  });
});
