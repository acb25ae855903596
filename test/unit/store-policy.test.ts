import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, RefusedError } from "#core/errors.ts";
import {
  assertMessageFits,
  createStores,
  DEFAULT_STORE_POLICY,
  encodePayload,
  MAX_MESSAGE_BYTES,
  policyFor,
  resolveStorePolicy,
} from "#core/store/index.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ferry-store-policy-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("resolveStorePolicy", () => {
  it("fills the defaults: s3 over 10,000 bytes", () => {
    expect(resolveStorePolicy({})).toEqual({ backend: "s3", thresholdBytes: 10_000 });
    expect(resolveStorePolicy(undefined)).toEqual(DEFAULT_STORE_POLICY);
    expect(policyFor({}, "simulate")).toEqual(DEFAULT_STORE_POLICY);
    expect(policyFor({}, "toString")).toEqual(DEFAULT_STORE_POLICY);
  });

  it("takes the seed's `--simulate-ps-backend file --ps-threshold 500000` form", () => {
    expect(
      resolveStorePolicy({ backend: "file", thresholdBytes: "500000", fileDir: "rel/dir" }),
    ).toEqual({
      backend: "file",
      thresholdBytes: 500_000,
      fileDir: resolve("rel/dir"),
    });
  });

  it.each([
    [{ backend: "file" }, /store policy: fileDir: backend file needs fileDir/],
    [{ backend: "redis" }, /store policy: server: backend redis needs server, the host:port/],
    [{ backend: "redis", server: "redis:0" }, /store policy: server: the port must be 1-65535/],
    [{ backend: "globus" }, /store policy: backend: /],
    [{ thresholdBytes: -1 }, /store policy: thresholdBytes: /],
    [{ thresholdBytes: "10kB" }, /store policy: thresholdBytes: /],
    [{ threshold: 10 }, /store policy: /],
  ])("refuses %j with a ConfigError naming the field", (input, message) => {
    expect(() => resolveStorePolicy(input)).toThrow(ConfigError);
    expect(() => resolveStorePolicy(input)).toThrow(message);
  });

  it("names the topic when told", () => {
    expect(() => resolveStorePolicy({ backend: "file" }, "topic train")).toThrow(/^topic train: /);
  });
});

describe("createStores", () => {
  it("builds the file store from the policies' directory", () => {
    const stores = createStores({
      policies: { a: resolveStorePolicy({ backend: "file", fileDir: dir }) },
    });
    expect(stores.file?.dir).toBe(resolve(dir));
    expect(stores.s3).toBeUndefined();
  });

  it("refuses policies that name two directories", () => {
    expect(() =>
      createStores({
        policies: {
          a: resolveStorePolicy({ backend: "file", fileDir: join(dir, "a") }),
          b: resolveStorePolicy({ backend: "file", fileDir: join(dir, "b") }),
        },
      }),
    ).toThrow(/several directories/);
  });

  it("refuses a topic whose directory is not this side's file store", async () => {
    const stores = createStores({ fileDir: join(dir, "mine") });
    const policies = {
      t: resolveStorePolicy({ backend: "file", thresholdBytes: 0, fileDir: join(dir, "other") }),
    };
    await expect(encodePayload("xy", { topic: "t", policies, stores })).rejects.toThrow(
      /but this side's file store is/,
    );
  });
});

describe("assertMessageFits", () => {
  it("lets a 1 MiB message through and refuses one byte more, naming the fix", () => {
    expect(() =>
      assertMessageFits("x".repeat(MAX_MESSAGE_BYTES), { topic: "train" }),
    ).not.toThrow();
    const error = (() => {
      try {
        assertMessageFits("x".repeat(MAX_MESSAGE_BYTES + 1), {
          topic: "train",
          what: "task message",
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).toOneLine()).toMatch(
      /^task message for topic "train" is 1048577 bytes.*: enable a store for topic "train"/,
    );
  });

  it("counts UTF-8 bytes and message attributes", () => {
    expect(() =>
      assertMessageFits("é".repeat(MAX_MESSAGE_BYTES / 2), { topic: "t" }),
    ).not.toThrow();
    expect(() =>
      assertMessageFits("é".repeat(MAX_MESSAGE_BYTES / 2), { topic: "t", attributesBytes: 1 }),
    ).toThrow(RefusedError);
  });
});
