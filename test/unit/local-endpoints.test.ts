import { describe, expect, it } from "vitest";
import { deploymentFromOutputs, loadEnv } from "#core/config/index.ts";

const outputs = {
  BucketName: "b",
  DeadLetterQueueUrl: "http://127.0.0.1:1/000000000000/ferry-dlq",
  DeadLetterQueueArn: "arn:aws:sqs:us-east-1:000000000000:ferry-dlq",
  RegistrationFunctionName: "fn",
  QueuePrefix: "ferry-",
  Region: "us-east-1",
};

describe("local endpoints in the deployment file", () => {
  it("reads SQS and S3 apart, as the compat backend writes them", () => {
    const d = deploymentFromOutputs({
      Ferry: {
        ...outputs,
        LocalSqsEndpointUrl: "http://127.0.0.1:1",
        LocalS3EndpointUrl: "http://127.0.0.1:2",
        LocalLambdaEndpointUrl: "http://127.0.0.1:3",
      },
    });
    expect(d.endpoints).toEqual({
      sqs: "http://127.0.0.1:1",
      s3: "http://127.0.0.1:2",
      lambda: "http://127.0.0.1:3",
    });
    expect(d.isLocal).toBe(true);
  });

  it("lets the per-service outputs win over LocalAwsEndpointUrl, which still fills the gaps", () => {
    const d = deploymentFromOutputs({
      Ferry: {
        ...outputs,
        LocalAwsEndpointUrl: "http://127.0.0.1:9",
        LocalS3EndpointUrl: "http://127.0.0.1:2",
      },
    });
    expect(d.endpoints).toEqual({ sqs: "http://127.0.0.1:9", s3: "http://127.0.0.1:2" });
  });

  it("is local when any local endpoint is recorded", () => {
    const withOnly = (key: string) =>
      deploymentFromOutputs({ Ferry: { ...outputs, [key]: "http://127.0.0.1:1" } }).isLocal;
    expect(withOnly("LocalSqsEndpointUrl")).toBe(true);
    expect(withOnly("LocalS3EndpointUrl")).toBe(true);
    expect(withOnly("LocalLambdaEndpointUrl")).toBe(true);
    expect(deploymentFromOutputs({ Ferry: outputs }).isLocal).toBe(false);
  });
});

describe("FERRY_LOCAL_BACKEND", () => {
  it("names the backend, or leaves it to the caller's default", () => {
    expect(loadEnv({ FERRY_LOCAL_BACKEND: "compat" }).localBackend).toBe("compat");
    expect(loadEnv({ FERRY_LOCAL_BACKEND: "fauxqs" }).localBackend).toBe("fauxqs");
    expect(loadEnv({}).localBackend).toBeUndefined();
  });

  it("refuses an unknown backend by name", () => {
    expect(() => loadEnv({ FERRY_LOCAL_BACKEND: "localstack" })).toThrow(/FERRY_LOCAL_BACKEND/);
  });
});
