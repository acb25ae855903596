import { describe, expect, it } from "vitest";
import { AGENT_DEFAULT_POLICY, encodeResult, resultPolicyFor } from "#agent/result-encoding.ts";
import { createLogger } from "#core/logger.ts";

const options = {
  policies: {},
  stores: {},
  signal: new AbortController().signal,
  logger: createLogger({}, { level: "silent" }),
};

describe("encodeResult", () => {
  // A topic named like an Object.prototype member ("constructor" is a
  // valid SafeName) picked up that member as its store policy and every result failed.
  it.each(["constructor", "toString", "hasOwnProperty", "valueOf"])(
    "keeps a small result inline for topic %s without a policy",
    async (topic) => {
      const encoded = await encodeResult({ ok: 1 }, topic, options);
      expect(encoded).toMatchObject({ ok: true, payload: { inline: { ok: 1 } } });
    },
  );
});

describe("resultPolicyFor", () => {
  const site = { infer: { backend: "none" as const, thresholdBytes: 0 } };
  it("takes the site's policy first, then the one the client sent with the task", () => {
    const fromTask = { backend: "s3" as const, thresholdBytes: 10_000 };
    expect(resultPolicyFor(site, "infer", fromTask)).toEqual(site.infer);
    expect(resultPolicyFor(site, "train", fromTask)).toEqual(fromTask);
    expect(resultPolicyFor({ "*": site.infer }, "train", fromTask)).toEqual(site.infer);
    expect(resultPolicyFor({}, "train")).toEqual(AGENT_DEFAULT_POLICY);
  });

  it("puts the client's file backend at this site's own mount, or falls back without one", () => {
    const fromTask = { backend: "file" as const, thresholdBytes: 5 };
    expect(resultPolicyFor({}, "t", fromTask, "/site/mount")).toEqual({
      backend: "file",
      thresholdBytes: 5,
      fileDir: "/site/mount",
    });
    expect(resultPolicyFor({}, "t", fromTask)).toEqual(AGENT_DEFAULT_POLICY);
  });

  it("encodes a result by the task's policy: over the threshold it goes by reference", async () => {
    const encoded = await encodeResult("x".repeat(50), "train", {
      ...options,
      fromTask: { backend: "none", thresholdBytes: 10 },
    });
    // none: inline whatever the threshold.
    expect(encoded).toMatchObject({ ok: true, payload: { inline: "x".repeat(50) } });
    const refused = await encodeResult("x".repeat(50), "train", {
      ...options,
      fromTask: { backend: "s3", thresholdBytes: 10 },
    });
    // s3 asked for, but this side has no S3 store: said, not silently inlined.
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error.message).toMatch(/s3 store/);
  });
});
