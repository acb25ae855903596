// Large objects at the S3 store's limits, on the suite's own deployment (fauxqs, or s3rver with
// FERRY_LOCAL_BACKEND=compat): multipart uploads, ranged parallel downloads, presigned reads,
// and the integrity errors a corrupted, truncated or lengthened object must give on each path.
import { createHash, randomFillSync } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "#core/aws/index.ts";
import { awsOptionsFor } from "#core/config/index.ts";
import type { Connection } from "#core/connect.ts";
import { IntegrityError, NotFoundError, TransientError } from "#core/errors.ts";
import type { StoreRef } from "#core/protocol/index.ts";
import { createS3Store, readPresigned, type S3Store } from "#core/store/index.ts";
import { connectForTest } from "../helpers/ferry.ts";

const MIB = 1024 * 1024;
/** Three 8 MiB parts and a short fourth: multipart up, ranged down. */
const BIG = 24 * MIB + 12_345;

let conn: Connection;
let store: S3Store;
let bucket: string;
/** The S3 requests the store made, as command name and Range. */
const calls: Array<{ command: string; range?: string }> = [];

beforeAll(async () => {
  conn = await connectForTest();
  bucket = conn.deployment.bucketName;
  conn.aws.s3.middlewareStack.add(
    (next, context) => (args) => {
      const input = args.input as { Range?: string };
      calls.push({
        command: context.commandName ?? "",
        ...(input.Range ? { range: input.Range } : {}),
      });
      return next(args);
    },
    { step: "initialize", name: "ferryTestRecorder" },
  );
  store = createS3Store({ client: conn.aws.s3, bucket });
});

afterAll(() => conn?.close());

/** Replace the object's bytes behind the store's back, as a fault or an attacker could. */
async function overwrite(s3: S3Client, ref: StoreRef, body: Uint8Array): Promise<void> {
  await new Upload({
    client: s3,
    partSize: 8 * MIB,
    params: { Bucket: bucket, Key: ref.location, Body: body },
  }).done();
}

const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("objects larger than a part", () => {
  let bytes: Uint8Array;
  let ref: StoreRef;

  beforeAll(async () => {
    bytes = randomFillSync(new Uint8Array(BIG));
    calls.length = 0;
    ref = await store.put(bytes, { codec: "bytes", temporary: true });
  });

  it("go up in parts of 8 MiB and come back by ranged GETs, byte-identical", async () => {
    expect(ref).toMatchObject({ size: BIG, sha256: sha256Of(bytes) });
    const parts = calls.filter((c) => c.command === "UploadPartCommand");
    expect(parts).toHaveLength(4);
    expect(calls.map((c) => c.command)).toContain("CompleteMultipartUploadCommand");

    calls.length = 0;
    const back = await store.get(ref);
    expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true);
    const ranges = calls.filter((c) => c.command === "GetObjectCommand").map((c) => c.range);
    expect(ranges.sort()).toEqual(
      [0, 1, 2, 3]
        .map((i) => `bytes=${i * 8 * MIB}-${Math.min(BIG, (i + 1) * 8 * MIB) - 1}`)
        .sort(),
    );
  });

  it("come back through a presigned URL, without credentials, whole or by range", async () => {
    // Signed with the agent's credentials, which the URL never carries (emulators accept any).
    const secretAccessKey = "secret-that-must-not-leak";
    const signer = createAwsClients({
      ...awsOptionsFor(conn.env, conn.deployment),
      credentials: { accessKeyId: "AKIDFERRYTEST", secretAccessKey },
    });
    const url = await createS3Store({ client: signer.s3, bucket }).presignGet?.(ref, 60);
    signer.destroy();
    if (!url) throw new Error("the s3 store presigns GETs");
    expect(url).not.toContain(secretAccessKey);
    const back = await readPresigned(url, ref);
    expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true);
    // One part or less: a single GET through the same URL.
    const small = await store.put(bytes.subarray(0, 100_000), { codec: "bytes", temporary: true });
    const smallUrl = (await store.presignGet?.(small, 60)) ?? "";
    expect(Buffer.from(await readPresigned(smallUrl, small))).toEqual(
      Buffer.from(bytes.subarray(0, 100_000)),
    );
  });

  it("that were corrupted, truncated or lengthened give a clear IntegrityError on every path", async () => {
    const corrupt = await store.put(bytes, { codec: "bytes", temporary: true });
    const forged = Uint8Array.from(bytes);
    forged[BIG - 3] = (forged[BIG - 3] ?? 0) ^ 0xff; // same size, one byte in the last range
    await overwrite(conn.aws.s3, corrupt, forged);
    const url = (await store.presignGet?.(corrupt, 60)) ?? "";
    for (const read of [() => store.get(corrupt), () => readPresigned(url, corrupt)]) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).message).toMatch(
        new RegExp(
          `${corrupt.location} has sha256 [0-9a-f]{64} but its reference says ${corrupt.sha256}`,
        ),
      );
      expect((error as IntegrityError).toOneLine()).toMatch(/corrupted or replaced/);
    }

    const truncated = await store.put(bytes, { codec: "bytes", temporary: true });
    await overwrite(conn.aws.s3, truncated, bytes.subarray(0, 10 * MIB));
    const longer = await store.put(bytes, { codec: "bytes", temporary: true });
    await overwrite(conn.aws.s3, longer, Buffer.concat([bytes, new Uint8Array(10)]));
    for (const wrong of [truncated, longer]) {
      const wrongUrl = (await store.presignGet?.(wrong, 60)) ?? "";
      for (const read of [() => store.get(wrong), () => readPresigned(wrongUrl, wrong)]) {
        await expect(read()).rejects.toThrow(IntegrityError);
        await expect(read()).rejects.toThrow(/holds \d+ bytes but its reference says|shorter/);
      }
    }
  });

  it("say so when gone, through a presigned URL too", async () => {
    const gone = await store.put(bytes.subarray(0, 9 * MIB), { codec: "bytes", temporary: true });
    const url = (await store.presignGet?.(gone, 60)) ?? "";
    await store.delete(gone);
    await expect(store.get(gone)).rejects.toThrow(NotFoundError);
    await expect(readPresigned(url, gone)).rejects.toThrow(NotFoundError);
    await expect(readPresigned(url, gone)).rejects.toThrow(/does not exist/);
  });

  it("through a presigned URL whose store is out of reach: a TransientError, so the task is tried again", async () => {
    const ref = await store.put(bytes.subarray(0, 1_000), { codec: "bytes", temporary: true });
    const url = new URL((await store.presignGet?.(ref, 60)) ?? "");
    // A port nothing listens on: the socket is refused on every try.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    url.port = String((closed.address() as AddressInfo).port);
    await new Promise<void>((r) => closed.close(() => r()));
    const fast = { partSize: 8 * MIB, queueSize: 1, attempts: 2 };
    await expect(readPresigned(url.toString(), ref, fast)).rejects.toThrow(TransientError);
    await expect(readPresigned(url.toString(), ref, fast)).rejects.toThrow(
      /cannot reach the store/,
    );
    await store.delete(ref);
  });

  it("streamed from a file go up in parts, checked against the writer's claim", async () => {
    // putFile reads the staged file whole, so a lie is refused before anything is sent.
    const path = join(await mkdtemp(join(tmpdir(), "ferry-store-large-")), "staged.bytes");
    await writeFile(path, bytes);
    calls.length = 0;
    const sha256 = sha256Of(bytes);
    const again = await store.putFile?.(path, { codec: "bytes", size: BIG, sha256 });
    if (!again) throw new Error("the s3 store uploads files");
    expect(calls.filter((c) => c.command === "UploadPartCommand")).toHaveLength(4);
    const out = await conn.aws.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: again.location }),
    );
    expect(sha256Of(await (out.Body?.transformToByteArray() ?? new Uint8Array()))).toBe(sha256);
    calls.length = 0;
    await expect(
      store.putFile?.(path, { codec: "bytes", size: BIG, sha256: "c".repeat(64) }),
    ).rejects.toThrow(IntegrityError);
    expect(calls.filter((c) => c.command.includes("Upload"))).toEqual([]);
  });
});
