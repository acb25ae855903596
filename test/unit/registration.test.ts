import { describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import { ConfigError, NotFoundError, ProtocolError, TransientError } from "#core/errors.ts";
import { loadRegistrationConfig } from "#functions/registration/config.ts";
import { ConflictError, toControlError } from "#functions/registration/errors.ts";
import {
  endpointView,
  ONLINE_WITHIN_MS,
  STALE_WITHIN_MS,
  statusOf,
} from "#functions/registration/status.ts";

const FULL_ENV = {
  FERRY_BUCKET: "ferry-store",
  FERRY_DLQ_ARN: "arn:aws:sqs:us-east-1:000000000000:ferry-dlq",
  FERRY_QUEUE_PREFIX: "ferry-",
  FERRY_MAX_RECEIVE_COUNT: "5",
  AWS_REGION: "eu-west-1",
};

describe("loadRegistrationConfig", () => {
  it("names every missing variable at once", () => {
    expect(() => loadRegistrationConfig({})).toThrow(
      /FERRY_BUCKET, FERRY_DLQ_ARN, FERRY_QUEUE_PREFIX, FERRY_MAX_RECEIVE_COUNT, AWS_REGION/,
    );
    const { FERRY_DLQ_ARN: _, ...withoutDlq } = FULL_ENV;
    expect(() => loadRegistrationConfig(withoutDlq)).toThrow(ConfigError);
    expect(() => loadRegistrationConfig(withoutDlq)).toThrow(/variable FERRY_DLQ_ARN$/);
  });

  it("refuses a receive count SQS would refuse", () => {
    expect(() => loadRegistrationConfig({ ...FULL_ENV, FERRY_MAX_RECEIVE_COUNT: "0" })).toThrow(
      /FERRY_MAX_RECEIVE_COUNT/,
    );
    expect(() => loadRegistrationConfig({ ...FULL_ENV, FERRY_MAX_RECEIVE_COUNT: "x" })).toThrow(
      /FERRY_MAX_RECEIVE_COUNT/,
    );
  });

  it("uses the default credential chain against real AWS", () => {
    const config = loadRegistrationConfig(FULL_ENV);
    expect(config).toMatchObject({
      bucket: "ferry-store",
      queuePrefix: "ferry-",
      maxReceiveCount: 5,
    });
    expect(config.aws.region).toBe("eu-west-1");
    expect(config.aws.credentials).toBeUndefined();
    expect(config.aws.endpoints).toEqual({ sqs: undefined, s3: undefined });
  });

  it("signs with emulator credentials when an endpoint is overridden without keys", () => {
    const local = { ...FULL_ENV, AWS_ENDPOINT_URL: "http://127.0.0.1:4566" };
    const config = loadRegistrationConfig(local);
    expect(config.aws.endpoints).toEqual({
      sqs: "http://127.0.0.1:4566",
      s3: "http://127.0.0.1:4566",
    });
    expect(config.aws.credentials).toEqual(EMULATOR_CREDENTIALS);
    const perService = loadRegistrationConfig({
      ...local,
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9000",
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
    });
    expect(perService.aws.endpoints?.s3).toBe("http://127.0.0.1:9000");
    expect(perService.aws.credentials).toBeUndefined();
  });

  it("names a malformed endpoint URL", () => {
    expect(() => loadRegistrationConfig({ ...FULL_ENV, AWS_ENDPOINT_URL_SQS: "nope" })).toThrow(
      /AWS_ENDPOINT_URL_SQS/,
    );
  });
});

describe("endpoint status", () => {
  const now = 1_800_000_000_000;

  it("is online, stale, then offline as the last heartbeat ages", () => {
    expect(statusOf(undefined, now)).toBe("offline");
    expect(statusOf(now, now)).toBe("online");
    expect(statusOf(now - ONLINE_WITHIN_MS, now)).toBe("online");
    expect(statusOf(now - ONLINE_WITHIN_MS - 1, now)).toBe("stale");
    expect(statusOf(now - STALE_WITHIN_MS, now)).toBe("stale");
    expect(statusOf(now - STALE_WITHIN_MS - 1, now)).toBe("offline");
  });

  it("takes the newest heartbeat and lists only recent agents", () => {
    const endpoint = {
      v: 1 as const,
      endpointId: "01920000-0000-7000-8000-000000000001",
      name: "cpu",
      queueUrl: "q",
      registeredAt: 0,
    };
    const beat = (agentId: string, at: number) => ({
      v: 1 as const,
      endpointId: endpoint.endpointId,
      agentId,
      at,
      slots: { total: 2, busy: 0 },
      runningTaskIds: [],
      versions: { ferry: "0.1.0", node: "24" },
      host: "h",
      pid: 1,
    });
    const view = endpointView(
      endpoint,
      [beat("old", now - STALE_WITHIN_MS - 5_000), beat("b", now - 100_000), beat("a", now - 10)],
      now,
    );
    expect(view.status).toBe("online");
    expect(view.lastHeartbeat).toBe(now - 10);
    expect(view.agents.map((a) => a.agentId)).toEqual(["a", "b"]);
    expect(endpointView(endpoint, [], now)).toEqual({ endpoint, status: "offline", agents: [] });
  });
});

describe("toControlError", () => {
  it("maps Ferry errors to response types, AWS's 'not now' to Unavailable, anything else to Internal", () => {
    expect(toControlError(new ProtocolError("x: bad")).type).toBe("BadRequest");
    expect(toControlError(new NotFoundError("gone", { hint: "do this" }))).toEqual({
      type: "NotFound",
      message: "gone: do this",
    });
    expect(toControlError(new ConflictError("taken")).type).toBe("Conflict");
    // Retriable: a queue name in SQS's 60 s reuse window, or AWS throttling the function.
    expect(toControlError(new TransientError("later")).type).toBe("Unavailable");
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "SlowDown",
      $metadata: { httpStatusCode: 503 },
    });
    expect(toControlError(throttled)).toEqual({ type: "Unavailable", message: "Rate exceeded" });
    const denied = Object.assign(new Error("denied"), {
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403 },
    });
    expect(toControlError(denied).type).toBe("Internal");
    expect(toControlError(new Error("boom"))).toEqual({ type: "Internal", message: "boom" });
  });
});
