// The redis backend against a real redis-server (Debian's): references, integrity, TTL, size
// limit, allow-list and an unreachable server; then through a real agent and its node worker.
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointAgent } from "#agent/index.ts";
import { IntegrityError, NotFoundError, RefusedError, TransientError } from "#core/errors.ts";
import type { FunctionRef, StoreRef } from "#core/protocol/index.ts";
import {
  createRedisStores,
  createStores,
  decodePayload,
  deletePayload,
  encodePayload,
  REDIS_DEFAULT_TTL_SECONDS,
  resolveStorePolicy,
  type StorePolicies,
} from "#core/store/index.ts";
import { type RedisServerProcess, startRedisServer } from "../helpers/redis-server.ts";
import { type Harness, startHarness, startInProcessAgent } from "./agent-harness.ts";

let redis: RedisServerProcess;
let raw: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  raw = new Redis({ host: redis.host, port: redis.port });
});

afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
});

const policiesOn = (server: string, thresholdBytes = 100): StorePolicies => ({
  simulate: resolveStorePolicy({ backend: "redis", thresholdBytes, server }),
});

async function stored(value: unknown, owner?: string): Promise<StoreRef> {
  const policies = policiesOn(redis.server);
  const { payload } = await encodePayload(value, {
    topic: "simulate",
    policies,
    stores: createStores({ policies }),
    temporary: true,
    owner,
  });
  if (!("ref" in payload)) throw new Error("expected a reference");
  return payload.ref;
}

describe("the redis store", () => {
  it("stores a value past the threshold under the owner's key, with a TTL, and reads it back verified", async () => {
    const value = { xyz: "C".repeat(5_000), energies: [1.5, -2.25] };
    const ref = await stored(value, "AIDAOWNER1");
    expect(ref).toMatchObject({ store: "redis", server: redis.server, codec: "json" });
    expect(ref.location).toMatch(/^tmp\/AIDAOWNER1\/[0-9a-f-]{36}\.json$/);
    const ttl = await raw.ttl(`ferry:${ref.location}`);
    expect(ttl).toBeGreaterThan(REDIS_DEFAULT_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(REDIS_DEFAULT_TTL_SECONDS);
    const stores = createStores({ redis: { servers: [redis.server] } });
    expect(await decodePayload({ ref }, stores)).toEqual(value);

    await deletePayload({ ref }, stores);
    expect(await raw.exists(`ferry:${ref.location}`)).toBe(0);
    await expect(decodePayload({ ref }, stores)).rejects.toThrow(NotFoundError);
  });

  it("keeps small values inline, as the other backends do", async () => {
    const policies = policiesOn(redis.server, 10_000);
    const { payload } = await encodePayload(
      { smiles: "CCO" },
      { topic: "simulate", policies, stores: createStores({ policies }) },
    );
    expect(payload).toEqual({ inline: { smiles: "CCO" } });
  });

  it("refuses bytes replaced on the server (same size), naming the sha256 mismatch", async () => {
    const ref = await stored({ data: "A".repeat(1_000) });
    const forged = JSON.stringify({ data: `B${"A".repeat(999)}` });
    await raw.set(`ferry:${ref.location}`, forged);
    const stores = createStores({ redis: { servers: [redis.server] } });
    const error = await decodePayload({ ref }, stores).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toMatch(/has sha256 [0-9a-f]{64} but its reference says/);
  });

  it("refuses a server outside the allow-list before connecting, and a location that escapes", async () => {
    const ref = await stored({ data: "A".repeat(1_000) });
    const stores = createStores({ redis: { servers: ["10.0.0.1:6379"] } });
    const error = await decodePayload({ ref }, stores).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).toOneLine()).toBe(
      `redis server ${redis.server} is not one this side may reach (allowed: 10.0.0.1:6379): a site admin adds it to the site config ("storeRedisServers": ["${redis.server}"]), or send the topic through s3`,
    );
    const mine = createStores({ redis: { servers: [redis.server] } });
    const outside = { ...ref, location: "registry/endpoints.json" };
    await expect(decodePayload({ ref: outside }, mine)).rejects.toThrow(/is not under store\//);
  });

  it("refuses a value over its size limit clearly, writing nothing", async () => {
    const before = await raw.dbsize();
    const stores = createRedisStores({ servers: [redis.server], maxObjectBytes: 1_000 });
    const error = await stores
      .on(redis.server)
      .put(new Uint8Array(1_001), { codec: "bytes" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).toOneLine()).toBe(
      "a 1001-byte value is over the redis store's limit of 1000 bytes: send values this large through the s3 store (--<topic>-ps-backend s3)",
    );
    expect(await raw.dbsize()).toBe(before);
  });

  it("names host:port and what to do when the server is unreachable (retriable)", async () => {
    const closed = await closedPort();
    const server = `127.0.0.1:${closed}`;
    const stores = createRedisStores({ servers: [server] });
    const error = await stores
      .on(server)
      .put(new Uint8Array(10), { codec: "bytes" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    const line = (error as TransientError).toOneLine();
    expect(line).not.toContain("\n");
    expect(line).toMatch(
      new RegExp(
        `^cannot reach the Redis server at ${server} \\(.*ECONNREFUSED.*\\): start redis-server there`,
      ),
    );
    expect((error as TransientError).retriable).toBe(true);
  });
});

describe("redis through a real agent", () => {
  let h: Harness;
  let agent: EndpointAgent;
  let echo: FunctionRef;
  beforeAll(async () => {
    h = await startHarness();
    h.results.start();
    agent = await startInProcessAgent(h, { pollWaitSeconds: 1, storeRedisServers: [redis.server] });
    echo = await h.registerNode(
      "echo-big",
      "export default (a: { text: string }) => ({ text: a.text.toUpperCase(), env: Object.keys(process.env).filter((k) => /redis/i.test(k)) });",
    );
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  it("reads arguments from Redis and stores the result there, owner-scoped", async () => {
    const ref = await stored({ text: "ab".repeat(2_000) }, "AIDAOWNER2");
    const taskId = await h.sendTask(echo, null, {
      args: { ref },
      topic: "simulate",
      objectOwner: "AIDAOWNER2",
      resultStore: { backend: "redis", thresholdBytes: 100, server: redis.server },
    });
    const result = await h.results.waitFor(taskId);
    if (!result.ok) throw new Error(result.error.message);
    if (!("ref" in result.value)) throw new Error("expected the result by reference");
    expect(result.value.ref).toMatchObject({ store: "redis", server: redis.server });
    expect(result.value.ref.location).toMatch(/^tmp\/AIDAOWNER2\//);
    const value = await decodePayload(
      result.value,
      createStores({ redis: { servers: [redis.server] } }),
    );
    expect(value).toEqual({ text: "AB".repeat(2_000), env: [] });
  });

  it("refuses arguments stored under another session owner's part of Redis", async () => {
    const ref = await stored({ text: "secret".repeat(200) }, "AIDAOWNER2");
    const taskId = await h.sendTask(echo, null, {
      args: { ref },
      topic: "simulate",
      objectOwner: "AIDAOTHER",
    });
    const result = await h.results.waitFor(taskId);
    expect(!result.ok && result.error.type).toBe("InputError");
    expect(!result.ok && result.error.message).toContain(
      "it is not in this session owner's part of the store",
    );
  });

  it("refuses a result server the site does not allow, saying how to allow it", async () => {
    const other = `127.0.0.1:${await closedPort()}`;
    const taskId = await h.sendTask(
      echo,
      { text: "x".repeat(500) },
      {
        topic: "simulate",
        resultStore: { backend: "redis", thresholdBytes: 100, server: other },
      },
    );
    const result = await h.results.waitFor(taskId);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.message).toContain(
      `redis server ${other} is not one this side may reach (allowed: ${redis.server})`,
    );
  });
});

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const address = probe.address();
  await new Promise((r) => probe.close(r));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
