import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { ConfigError, ProtocolError, RefusedError } from "../errors.ts";
import type { Payload, StoreRef } from "../protocol/payload.ts";
import { chooseCodec, decodeValue, describeNonJson, encodeValue } from "./codec.ts";
import { isTemporaryLocation } from "./keys.ts";
import { MAX_INLINE_BYTES, tooLargeError } from "./message-size.ts";
import { policyFor, type StorePolicies, type StorePolicy } from "./policy.ts";
import type { ObjectStore, Stores } from "./store.ts";

type JsonValue = Extract<Payload, { inline: unknown }>["inline"];

export interface EncodePayloadOptions {
  /** The task's topic, which picks the store policy. */
  topic: string;
  policies: StorePolicies;
  stores: Stores;
  /**
   * Store by reference under `tmp/`, to be deleted after its last reader (deletePayload).
   * @default false
   */
  temporary?: boolean;
  /** Store by reference under the owner's part of the store (a client's IAM user id). */
  owner?: string | undefined;
  /**
   * The largest inline payload, leaving room in the SQS message for its envelope.
   * @default MAX_INLINE_BYTES (1 MiB less 32 KiB)
   */
  maxInlineBytes?: number;
}

export interface EncodedPayload {
  payload: Payload;
  /** Encoded size: the inline JSON or the stored object. */
  bytes: number;
  /** Time spent putting the object in its store; 0 inline. */
  storeMs: number;
  /** Time spent checking and encoding the value. */
  serializeMs: number;
}

/**
 * Turn a value into a Payload under its topic's policy. Plain JSON values whose encoding is at
 * most the threshold go inline; larger ones go to the topic's store. Values JSON would mangle
 * (typed arrays, Dates, bigints...) are encoded with msgpack and always go by reference, since
 * an inline payload is JSON. Refuses, before anything is sent, a value that needs a store the
 * topic does not have.
 */
export async function encodePayload(
  value: unknown,
  options: EncodePayloadOptions,
): Promise<EncodedPayload> {
  const { topic } = options;
  const policy = policyFor(options.policies, topic);
  const maxInlineBytes = options.maxInlineBytes ?? MAX_INLINE_BYTES;
  const started = performance.now();
  // A function that returns nothing yields null, as any JSON API would, not a stored object.
  const plain = value === undefined ? null : value;
  const codec = chooseCodec(plain);
  const nonJson = codec === "json" ? undefined : describeNonJson(plain);
  const bytes = encodeValue(plain, codec);
  let serializeMs = performance.now() - started;

  if (codec === "json" && bytes.byteLength <= maxInlineBytes) {
    if (policy.backend === "none" || bytes.byteLength <= policy.thresholdBytes) {
      // Parse back: the message carries exactly what the reader will see, detached from the
      // caller's object.
      const inline = decodeValue(bytes, "json") as JsonValue;
      serializeMs = performance.now() - started;
      return { payload: { inline }, bytes: bytes.byteLength, storeMs: 0, serializeMs };
    }
  }
  if (policy.backend === "none") {
    throw nonJson === undefined
      ? tooLargeError("value", bytes.byteLength, maxInlineBytes, topic)
      : new RefusedError(
          `value for topic "${topic}" holds ${nonJson}, which an inline (JSON) payload cannot carry`,
          {
            context: { topic },
            hint: `enable a store for topic "${topic}" (backend s3 or file) to send it by reference with msgpack`,
          },
        );
  }
  const store = storeForPolicy(policy, options.stores, topic);
  const putStarted = performance.now();
  const ref = await store.put(bytes, {
    codec,
    temporary: options.temporary ?? false,
    owner: options.owner,
  });
  return {
    payload: { ref },
    bytes: bytes.byteLength,
    storeMs: performance.now() - putStarted,
    serializeMs,
  };
}

export interface DecodedPayload {
  value: unknown;
  /** Size of the stored object; 0 inline. */
  bytes: number;
  /** Time spent fetching and verifying the object; 0 inline. */
  fetchMs: number;
  /** Time spent decoding the bytes; 0 inline. */
  deserializeMs: number;
}

/** decodePayload with its size and timings, for the timings of a task. */
export async function decodePayloadTimed(
  payload: Payload,
  stores: Stores,
): Promise<DecodedPayload> {
  if ("inline" in payload) return { value: payload.inline, bytes: 0, fetchMs: 0, deserializeMs: 0 };
  const { ref } = payload;
  const started = performance.now();
  const bytes = await storeForRef(ref, stores).get(ref);
  const fetched = performance.now();
  const value = decodeValue(bytes, ref.codec);
  return {
    value,
    bytes: bytes.byteLength,
    fetchMs: fetched - started,
    deserializeMs: performance.now() - fetched,
  };
}

/**
 * The value a payload carries: inline as is, by reference fetched from its store and verified
 * (size and sha256; a mismatch is an IntegrityError, never wrong data).
 */
export async function decodePayload(payload: Payload, stores: Stores): Promise<unknown> {
  return (await decodePayloadTimed(payload, stores)).value;
}

/** Delete a payload's stored object, e.g. a temporary one after its last reader. Inline: nothing. */
export async function deletePayload(payload: Payload, stores: Stores): Promise<void> {
  if ("inline" in payload) return;
  await storeForRef(payload.ref, stores).delete(payload.ref);
}

/** Whether a payload is a temporary stored object, which its last reader should delete. */
export function isTemporaryPayload(payload: Payload): boolean {
  return "ref" in payload && isTemporaryLocation(payload.ref.location);
}

function storeForPolicy(policy: StorePolicy, stores: Stores, topic: string): ObjectStore {
  if (policy.backend === "redis") {
    if (!stores.redis) throw noRedisStore(topic, policy.server);
    return stores.redis.on(policy.server);
  }
  const store = stores[policy.backend === "file" ? "file" : "s3"];
  if (!store) {
    throw new ConfigError(
      `topic "${topic}" sends large values through the ${policy.backend} store, but none is configured here`,
      { context: { topic }, hint: `pass a ${policy.backend} store (createStores) to this side` },
    );
  }
  if (policy.backend === "file" && stores.file && stores.file.dir !== resolve(policy.fileDir)) {
    throw new ConfigError(
      `topic "${topic}" stores in ${policy.fileDir}, but this side's file store is ${stores.file.dir}`,
      { context: { topic }, hint: "use one shared directory for every topic of the file backend" },
    );
  }
  return store;
}

function noRedisStore(topic: string, server: string): ConfigError {
  return new ConfigError(
    `topic "${topic}" sends large values through the redis store, but none is configured here`,
    { context: { topic }, hint: `allow ${server} on this side (createStores redis.servers)` },
  );
}

function storeForRef(ref: StoreRef, stores: Stores): ObjectStore {
  if (ref.store === "redis") {
    if (ref.server === undefined) {
      throw new ProtocolError("a redis reference names no server", {
        context: { location: ref.location },
      });
    }
    if (!stores.redis) {
      throw new ConfigError(
        `a payload is stored on the Redis server ${ref.server}, but no redis store is configured here`,
        {
          context: { location: ref.location },
          hint: `a site admin allows it in the site config ("storeRedisServers": ["${ref.server}"])`,
        },
      );
    }
    return stores.redis.on(ref.server);
  }
  const store = stores[ref.store];
  if (!store) {
    throw new ConfigError(
      `a payload is stored in the ${ref.store} store, but none is configured here`,
      {
        context: { location: ref.location },
        hint:
          ref.store === "file"
            ? "give this side the shared store directory (fileDir)"
            : "give this side the deployment's store bucket",
      },
    );
  }
  return store;
}
