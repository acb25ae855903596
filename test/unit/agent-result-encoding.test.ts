import { describe, expect, it } from "vitest";
import { encodeResult } from "#agent/result-encoding.ts";
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
