import { createHash, randomFillSync } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClients, EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import { IntegrityError, NotFoundError, RefusedError } from "#core/errors.ts";
import type { Payload, StoreRef } from "#core/protocol/index.ts";
import {
  createStores,
  decodePayload,
  decodePayloadTimed,
  deletePayload,
  encodePayload,
  resolveStorePolicy,
  type StorePolicies,
  type Stores,
} from "#core/store/index.ts";

const BUCKET = "ferry-store-test";
const BIG_BYTES = 100 * 1024 * 1024;

let server: FauxqsServer;
let aws: AwsClients;

async function listKeys(prefix: string): Promise<string[]> {
  const out = await aws.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])).sort();
}
let dir: string;
let stores: Stores;
let policies: StorePolicies;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  server.createBucket(BUCKET);
  aws = createAwsClients({
    region: "us-east-1",
    endpoints: { s3: server.address, sqs: server.address },
    credentials: EMULATOR_CREDENTIALS,
  });
  dir = await mkdtemp(join(tmpdir(), "ferry-store-s3-"));
  policies = {
    train: resolveStorePolicy({ backend: "s3" }),
    simulate: resolveStorePolicy({ backend: "file", thresholdBytes: "500000", fileDir: dir }),
  };
  stores = createStores({ s3: { client: aws.s3, bucket: BUCKET }, policies });
});

afterAll(async () => {
  aws?.destroy();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const sha256Of = (array: ArrayBufferView) =>
  createHash("sha256")
    .update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength))
    .digest("hex");

const refOf = (payload: Payload): StoreRef => {
  if (!("ref" in payload)) throw new Error("expected a payload by reference");
  return payload.ref;
};

describe("100 MB round trips", () => {
  let weights: Float32Array | undefined;
  let expectedSha = "";

  beforeAll(() => {
    weights = new Float32Array(BIG_BYTES / 4);
    // randomFillSync takes at most 2 GiB a call; 100 MiB is one.
    randomFillSync(weights);
    expectedSha = sha256Of(weights);
  });

  afterAll(() => {
    weights = undefined;
  });

  it.each(["train", "simulate"])(
    "a 100 MB Float32Array round-trips intact through the %s topic's store",
    async (topic) => {
      const started = performance.now();
      const encoded = await encodePayload(
        { weights, epoch: 3 },
        { topic, policies, stores, temporary: true },
      );
      const ref = refOf(encoded.payload);
      expect(ref).toMatchObject({ store: topic === "train" ? "s3" : "file", codec: "msgpack" });
      expect(ref.location).toMatch(/^tmp\//);
      expect(ref.size).toBeGreaterThan(BIG_BYTES);
      expect(ref.size).toBeLessThan(BIG_BYTES + 100);

      const decoded = await decodePayloadTimed(encoded.payload, stores);
      const value = decoded.value as { weights: Float32Array; epoch: number };
      expect(value.epoch).toBe(3);
      expect(value.weights).toBeInstanceOf(Float32Array);
      expect(value.weights.length).toBe(BIG_BYTES / 4);
      expect(sha256Of(value.weights)).toBe(expectedSha);
      const totalMs = performance.now() - started;
      console.info(
        `[store] 100 MiB via ${ref.store}: serialize ${encoded.serializeMs.toFixed(0)} ms, ` +
          `put ${encoded.storeMs.toFixed(0)} ms, get+verify ${decoded.fetchMs.toFixed(0)} ms, ` +
          `deserialize ${decoded.deserializeMs.toFixed(0)} ms, total ${totalMs.toFixed(0)} ms`,
      );

      await deletePayload(encoded.payload, stores);
      await expect(decodePayload(encoded.payload, stores)).rejects.toBeInstanceOf(NotFoundError);
    },
    120_000,
  );
});

describe("s3 store", () => {
  it("keeps objects under store/, checks them on read and deletes them", async () => {
    const value = { smiles: "C".repeat(20_000) };
    const { payload } = await encodePayload(value, { topic: "train", policies, stores });
    const ref = refOf(payload);
    expect(ref).toMatchObject({
      store: "s3",
      codec: "json",
      size: Buffer.byteLength(JSON.stringify(value)),
    });
    expect(ref.location).toMatch(/^store\/[0-9a-f-]{36}\.json$/);
    expect(await decodePayload(payload, stores)).toEqual(value);

    await deletePayload(payload, stores);
    await expect(
      aws.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: ref.location })),
    ).rejects.toThrow();
    await deletePayload(payload, stores); // already gone: not an error
  });

  it("gives an integrity error, not wrong data, for a corrupted stored object", async () => {
    const { payload } = await encodePayload(
      { energy: -40.1234, pad: "x".repeat(20_000) },
      {
        topic: "train",
        policies,
        stores,
      },
    );
    const ref = refOf(payload);
    const original = JSON.stringify({ energy: -40.1234, pad: "x".repeat(20_000) });
    const forged = original.replace("-40.1234", "-99.9999"); // same size, other bytes
    await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: ref.location, Body: forged }));
    const error = await decodePayload(payload, stores).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).message).toMatch(
      new RegExp(
        `s3://${BUCKET}/${ref.location} has sha256 [0-9a-f]{64} but its reference says ${ref.sha256}`,
      ),
    );

    await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: ref.location, Body: "{}" }));
    await expect(decodePayload(payload, stores)).rejects.toThrow(
      new RegExp(`holds 2 bytes but its reference says ${ref.size}$`),
    );
  });

  it("streams objects to and from local files, verifying them on the way", async () => {
    const s3 = stores.s3;
    if (!s3?.getToFile || !s3.putFile) throw new Error("the s3 store streams files");
    const bytes = randomFillSync(new Uint8Array(12 * 1024 * 1024 + 5));
    const ref = await s3.put(bytes, { codec: "bytes" });
    const path = join(dir, "streamed", "object.bytes");
    await s3.getToFile(ref, path);
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);

    // Back up from the file: a new object, multipart, the same bytes.
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const again = await s3.putFile(path, { codec: "bytes", size: bytes.byteLength, sha256 });
    expect(again.location).not.toBe(ref.location);
    expect(await s3.get(again)).toEqual(bytes);

    // A reference that does not match: an IntegrityError, and no file left behind.
    const wrong = join(dir, "streamed", "wrong.bytes");
    await expect(s3.getToFile({ ...ref, sha256: "b".repeat(64) }, wrong)).rejects.toThrow(
      IntegrityError,
    );
    await expect(stat(wrong)).rejects.toThrow(/ENOENT/);

    // A file whose writer claims another hash or size is refused, and nothing stays stored.
    const before = await listKeys("tmp/");
    await expect(
      s3.putFile(path, { codec: "bytes", size: bytes.byteLength, sha256: "c".repeat(64) }),
    ).rejects.toThrow(IntegrityError);
    await expect(
      s3.putFile(path, { codec: "bytes", size: bytes.byteLength - 1, sha256 }),
    ).rejects.toThrow(IntegrityError);
    expect(await listKeys("tmp/")).toEqual(before);
  });

  it("refuses locations outside store/ and tmp/, such as the registry", async () => {
    const forged: Payload = {
      ref: {
        store: "s3",
        location: "registry/endpoints/x.json",
        size: 1,
        sha256: "0".repeat(64),
        codec: "json",
      },
    };
    await expect(decodePayload(forged, stores)).rejects.toBeInstanceOf(RefusedError);
    await expect(deletePayload(forged, stores)).rejects.toBeInstanceOf(RefusedError);
  });

  it("says so when an object is gone", async () => {
    const missing: Payload = {
      ref: {
        store: "s3",
        location: "tmp/gone.json",
        size: 1,
        sha256: "0".repeat(64),
        codec: "json",
      },
    };
    await expect(decodePayload(missing, stores)).rejects.toThrow(/does not exist/);
  });
});
