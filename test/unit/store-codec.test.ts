import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, RefusedError } from "#core/errors.ts";
import { Payload } from "#core/protocol/index.ts";
import {
  chooseCodec,
  createFileStore,
  decodePayload,
  decodeValue,
  deletePayload,
  describeNonJson,
  encodePayload,
  encodeValue,
  type FileStore,
  isTemporaryPayload,
  resolveStorePolicy,
  type StorePolicies,
} from "#core/store/index.ts";

let dir: string;
let store: FileStore;
let policies: StorePolicies;
const THRESHOLD = 1_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ferry-store-codec-"));
  store = createFileStore({ dir, fsync: false });
  policies = {
    train: resolveStorePolicy({ backend: "file", thresholdBytes: THRESHOLD, fileDir: dir }),
    simulate: resolveStorePolicy({ backend: "none" }),
    huge: resolveStorePolicy({ backend: "file", thresholdBytes: 4_000_000, fileDir: dir }),
  };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A JSON string value whose encoding (with its quotes) is exactly `bytes` long. */
const jsonOfSize = (bytes: number) => "x".repeat(bytes - 2);

describe("codecs", () => {
  it("stores a lone Uint8Array or Buffer as its own bytes (codec bytes), other typed arrays as msgpack", async () => {
    const raw = Uint8Array.from({ length: 5_000 }, (_, i) => (i * 31) % 256);
    expect(chooseCodec(raw)).toBe("bytes");
    expect(chooseCodec(Buffer.from(raw))).toBe("bytes");
    expect(chooseCodec(new Float32Array(3))).toBe("msgpack");
    expect(chooseCodec({ raw })).toBe("msgpack");
    // No encoding pass: the very same bytes, not a copy.
    expect(encodeValue(raw, "bytes")).toBe(raw);
    expect(() => encodeValue([1, 2], "bytes")).toThrow(/Uint8Array/);

    const { payload } = await encodePayload(raw, {
      topic: "train",
      policies,
      stores: { file: store },
    });
    if (!("ref" in payload)) throw new Error("expected a reference");
    expect(payload.ref.codec).toBe("bytes");
    expect(payload.ref.size).toBe(raw.byteLength);
    // The stored object is exactly the bytes, readable by any program.
    expect(new Uint8Array(await readFile(join(dir, payload.ref.location)))).toEqual(raw);
    const back = await decodePayload(payload, { file: store });
    expect(back).toBeInstanceOf(Uint8Array);
    expect(back).toEqual(raw);
  });

  it("round-trips Float32Array and Float64Array through msgpack as typed arrays", () => {
    const f32 = Float32Array.from({ length: 10_000 }, (_, i) => i / 7);
    const f64 = Float64Array.from({ length: 10_000 }, (_, i) => Math.sin(i));
    f64[3] = Number.NaN;
    f64[4] = Number.NEGATIVE_INFINITY;
    const value = { weights: f32, predictions: f64, ids: new Int32Array([1, -2, 3]), name: "m1" };
    expect(chooseCodec(value)).toBe("msgpack");

    const bytes = encodeValue(value, "msgpack");
    // No JSON blow-up: about 4 and 8 bytes an element, plus a small header.
    expect(bytes.byteLength).toBeLessThan(f32.byteLength + f64.byteLength + 200);
    expect(JSON.stringify({ w: Array.from(f32), p: Array.from(f64) }).length).toBeGreaterThan(
      2 * bytes.byteLength,
    );

    const back = decodeValue(bytes, "msgpack") as typeof value;
    expect(back.weights).toBeInstanceOf(Float32Array);
    expect(back.predictions).toBeInstanceOf(Float64Array);
    expect(back.ids).toBeInstanceOf(Int32Array);
    expect(back.weights).toEqual(f32);
    expect(Array.from(back.predictions)).toEqual(Array.from(f64));
    expect(back.name).toBe("m1");
  });

  it("picks json for plain values and names what JSON would mangle", () => {
    expect(chooseCodec({ a: [1, "x", null, true, { b: 2 }], skipped: undefined })).toBe("json");
    expect(describeNonJson({ a: { w: new Float32Array(2) } })).toBe("Float32Array at value.a.w");
    expect(describeNonJson([1, Number.NaN])).toBe("NaN at value[1]");
    expect(describeNonJson({ n: 10n })).toBe("bigint at value.n");
    expect(describeNonJson([undefined])).toBe("undefined at value[0]");
    expect(describeNonJson({ d: new Date(0) })).toBe("Date at value.d");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeNonJson(cyclic)).toBe("a cycle at value.self");
  });

  it("round-trips bigint and Date through msgpack", () => {
    const value = { big: 2n ** 60n, when: new Date(1_800_000_000_000) };
    expect(decodeValue(encodeValue(value, "msgpack"), "msgpack")).toEqual(value);
  });
});

describe("encodePayload and decodePayload", () => {
  it("sends a payload one byte under the threshold inline, and one byte over by reference", async () => {
    const under = await encodePayload(jsonOfSize(THRESHOLD - 1), {
      topic: "train",
      policies,
      stores: { file: store },
    });
    const at = await encodePayload(jsonOfSize(THRESHOLD), {
      topic: "train",
      policies,
      stores: { file: store },
    });
    const over = await encodePayload(jsonOfSize(THRESHOLD + 1), {
      topic: "train",
      policies,
      stores: { file: store },
    });

    expect("inline" in under.payload).toBe(true);
    expect(under.bytes).toBe(THRESHOLD - 1);
    expect(under.storeMs).toBe(0);
    expect("inline" in at.payload).toBe(true);
    expect("ref" in over.payload).toBe(true);
    expect(over.bytes).toBe(THRESHOLD + 1);
    if (!("ref" in over.payload)) throw new Error("expected a reference");
    expect(over.payload.ref).toMatchObject({ store: "file", size: THRESHOLD + 1, codec: "json" });
    expect(Payload.parse(over.payload)).toEqual(over.payload);
    expect(Payload.parse(under.payload)).toEqual(under.payload);

    expect(await decodePayload(under.payload, { file: store })).toBe(jsonOfSize(THRESHOLD - 1));
    expect(await decodePayload(over.payload, { file: store })).toBe(jsonOfSize(THRESHOLD + 1));
  });

  it("measures the threshold in UTF-8 bytes, not characters", async () => {
    const value = "é".repeat(THRESHOLD / 2); // 2 bytes each: JSON is THRESHOLD + 2 bytes
    const { payload, bytes } = await encodePayload(value, {
      topic: "train",
      policies,
      stores: { file: store },
    });
    expect(bytes).toBe(THRESHOLD + 2);
    expect("ref" in payload).toBe(true);
  });

  it("sends typed arrays by reference with msgpack, and they come back typed", async () => {
    const value = { mean: new Float64Array([1.5, 2.5]), spread: new Float32Array([0.25]) };
    const encoded = await encodePayload(value, {
      topic: "train",
      policies,
      stores: { file: store },
      temporary: true,
    });
    if (!("ref" in encoded.payload)) throw new Error("expected a reference");
    expect(encoded.payload.ref.codec).toBe("msgpack");
    expect(isTemporaryPayload(encoded.payload)).toBe(true);
    const back = (await decodePayload(encoded.payload, { file: store })) as typeof value;
    expect(back.mean).toBeInstanceOf(Float64Array);
    expect(back.spread).toBeInstanceOf(Float32Array);
    expect(back).toEqual(value);

    await deletePayload(encoded.payload, { file: store });
    await expect(decodePayload(encoded.payload, { file: store })).rejects.toThrow(/does not exist/);
  });

  it("detaches an inline payload from the caller's object and drops undefined fields", async () => {
    const value = { a: 1, b: undefined, c: [1, 2] };
    const { payload } = await encodePayload(value, { topic: "train", policies, stores: {} });
    value.c.push(3);
    expect(payload).toEqual({ inline: { a: 1, c: [1, 2] } });
  });

  it("sends undefined (a function that returns nothing) inline as null", async () => {
    const { payload } = await encodePayload(undefined, { topic: "simulate", policies, stores: {} });
    expect(payload).toEqual({ inline: null });
  });

  it("refuses, before sending, an inline payload too large for an SQS message", async () => {
    const error = await encodePayload(jsonOfSize(1_048_576), {
      topic: "simulate",
      policies,
      stores: {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).toOneLine()).toMatch(
      /^value for topic "simulate" is 1048576 bytes, over .*: enable a store for topic "simulate"/,
    );
  });

  it("sends by reference a value under a threshold set above the SQS limit", async () => {
    const { payload } = await encodePayload(jsonOfSize(1_500_000), {
      topic: "huge",
      policies,
      stores: { file: store },
    });
    expect("ref" in payload).toBe(true);
  });

  it("refuses typed arrays on a topic without a store, and says how to fix it", async () => {
    const error = await encodePayload(
      { w: new Float32Array(3) },
      { topic: "simulate", policies, stores: {} },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).toOneLine()).toMatch(
      /holds Float32Array at value\.w, which an inline \(JSON\) payload cannot carry: enable a store for topic "simulate"/,
    );
  });

  it("says which store is missing on either side", async () => {
    await expect(
      encodePayload(jsonOfSize(THRESHOLD + 1), { topic: "train", policies, stores: {} }),
    ).rejects.toBeInstanceOf(ConfigError);
    const { payload } = await encodePayload(jsonOfSize(THRESHOLD + 1), {
      topic: "train",
      policies,
      stores: { file: store },
    });
    await expect(decodePayload(payload, {})).rejects.toThrow(
      /stored in the file store, but none is configured/,
    );
  });
});
