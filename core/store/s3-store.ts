import { createHash } from "node:crypto";
import { constants, createWriteStream } from "node:fs";
import { mkdir, open, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { ConfigError, IntegrityError, NotFoundError, ProtocolError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";
import type { Codec } from "./codec.ts";
import { checkLocation, newLocation } from "./keys.ts";
import { assertBackend, type ObjectStore, type PutFileOptions, type PutOptions } from "./store.ts";
import { checkStoredSize, readVerified, sha256Hex, verifyDigest } from "./verify.ts";

const MIB = 1024 * 1024;
/** S3's smallest part (except the last). */
const MIN_PART_BYTES = 5 * MIB;
/** The emulator refuses a part over 11 MiB; 8 MiB leaves room. */
const MAX_PART_BYTES = 8 * MIB;

const CONTENT_TYPES: Record<Codec, string> = {
  json: "application/json",
  msgpack: "application/vnd.msgpack",
  bytes: "application/octet-stream",
};

export interface S3StoreOptions {
  client: S3Client;
  /** The deployment's store bucket. */
  bucket: string;
  /**
   * Multipart part size, between 5 MiB (S3's minimum) and 8 MiB; objects up to one part go
   * in a single PutObject.
   * @default 8 MiB
   */
  partSizeBytes?: number;
  /**
   * Parts uploaded at once; an upload holds about queueSize × partSizeBytes of extra memory.
   * @default 4
   */
  queueSize?: number;
}

export interface S3Store extends ObjectStore {
  readonly backend: "s3";
  readonly bucket: string;
}

/** What every operation of one S3 store shares. */
interface S3Context {
  client: S3Client;
  bucket: string;
  partSize: number;
  queueSize: number;
}

/** The `s3` backend: objects under `store/` and `tmp/` of the deployment's bucket. */
export function createS3Store(options: S3StoreOptions): S3Store {
  const { client, bucket } = options;
  const partSize = options.partSizeBytes ?? MAX_PART_BYTES;
  if (!Number.isInteger(partSize) || partSize < MIN_PART_BYTES || partSize > MAX_PART_BYTES) {
    throw new ConfigError(
      `S3 store part size ${partSize} is outside ${MIN_PART_BYTES}..${MAX_PART_BYTES} bytes`,
    );
  }
  const ctx: S3Context = { client, bucket, partSize, queueSize: options.queueSize ?? 4 };
  return {
    backend: "s3",
    bucket,
    put: (bytes, putOptions) => putBytes(ctx, bytes, putOptions),
    get: (ref) => getBytes(ctx, ref),
    getToFile: (ref, path) => getToFile(ctx, ref, path),
    putFile: (path, fileOptions) => putFile(ctx, path, fileOptions),
    delete: (ref) => deleteObject(ctx, ref),
  };
}

function where(ctx: S3Context, ref: StoreRef): string {
  return `s3 store object s3://${ctx.bucket}/${ref.location}`;
}

function putBytes(
  ctx: S3Context,
  bytes: Uint8Array,
  { codec, temporary = false, owner }: PutOptions,
): Promise<StoreRef> {
  return upload(ctx, bytes, {
    codec,
    temporary,
    owner,
    size: bytes.byteLength,
    sha256: sha256Hex(bytes),
  });
}

async function getBytes(ctx: S3Context, ref: StoreRef): Promise<Uint8Array> {
  const body = await openBody(ctx, ref);
  try {
    return await readVerified(body, ref, where(ctx, ref));
  } finally {
    // Frees the socket when we stopped early (an integrity error).
    body.destroy();
  }
}

async function getToFile(ctx: S3Context, ref: StoreRef, path: string): Promise<void> {
  const body = await openBody(ctx, ref);
  const counted = countingHash(
    ref.size,
    () => new IntegrityError(`${where(ctx, ref)} is longer than its reference's ${ref.size} bytes`),
  );
  try {
    await mkdir(dirname(path), { recursive: true });
    await pipeline(body, counted.stream, createWriteStream(path));
    checkStoredSize(counted.size(), ref, where(ctx, ref));
    verifyDigest(counted.digest(), ref, where(ctx, ref));
  } catch (error) {
    await unlink(path).catch(() => undefined);
    throw error;
  } finally {
    body.destroy();
  }
}

async function putFile(ctx: S3Context, path: string, options: PutFileOptions): Promise<StoreRef> {
  // The last component is never followed: a link planted by the writer reads nothing.
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  const counted = countingHash();
  try {
    const source = handle.createReadStream();
    // pipe() does not pass errors on: a failed read must fail the upload, not stall it.
    source.once("error", (error) => counted.stream.destroy(error));
    const ref = await upload(ctx, source.pipe(counted.stream), options);
    const claimed = { ...ref, size: options.size, sha256: options.sha256 };
    try {
      checkStoredSize(counted.size(), claimed, where(ctx, ref));
      verifyDigest(counted.digest(), claimed, where(ctx, ref));
    } catch (error) {
      await ctx.client
        .send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: ref.location }))
        .catch(() => undefined);
      throw error;
    }
    return ref;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function deleteObject(ctx: S3Context, ref: StoreRef): Promise<void> {
  assertBackend(ref, "s3");
  checkLocation(ref.location);
  await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: ref.location }));
}

/** Upload under a fresh location, in parts of partSize (bytes or a stream). */
async function upload(
  ctx: S3Context,
  body: Uint8Array | Readable,
  options: PutFileOptions,
): Promise<StoreRef> {
  const { codec, temporary = false, sha256, size, owner } = options;
  const location = newLocation(codec, temporary, owner);
  await new Upload({
    client: ctx.client,
    partSize: ctx.partSize,
    queueSize: ctx.queueSize,
    leavePartsOnError: false,
    params: {
      Bucket: ctx.bucket,
      Key: location,
      Body: body,
      ContentType: CONTENT_TYPES[codec],
      // For people browsing the bucket; reads trust only the reference.
      Metadata: { sha256, codec },
    },
  }).done();
  return { store: "s3", location, size, sha256, codec };
}

/** The object's body as a Node stream, its stated length already checked. */
async function openBody(ctx: S3Context, ref: StoreRef): Promise<Readable> {
  assertBackend(ref, "s3");
  checkLocation(ref.location);
  const { body, contentLength } = await getObject(ctx, ref);
  if (!(body instanceof Readable)) {
    throw new ProtocolError(`${where(ctx, ref)}: the S3 client returned no Node stream`);
  }
  if (contentLength !== undefined) {
    try {
      checkStoredSize(contentLength, ref, where(ctx, ref));
    } catch (error) {
      body.destroy();
      throw error;
    }
  }
  return body;
}

/** GetObject, a missing key as NotFoundError. */
async function getObject(
  ctx: S3Context,
  ref: StoreRef,
): Promise<{ body: unknown; contentLength: number | undefined }> {
  try {
    const response = await ctx.client.send(
      new GetObjectCommand({ Bucket: ctx.bucket, Key: ref.location }),
    );
    return { body: response.Body, contentLength: response.ContentLength };
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === "NoSuchKey") {
      throw new NotFoundError(`${where(ctx, ref)} does not exist`, {
        cause: error,
        context: { location: ref.location },
        hint: "it was deleted after its last reader or expired by the bucket lifecycle",
      });
    }
    throw error;
  }
}

/**
 * A pass-through stream that counts and hashes what flows through it; past `limit` bytes it
 * fails with `tooLong()` instead of passing the chunk on.
 */
function countingHash(
  limit = Number.POSITIVE_INFINITY,
  tooLong?: () => Error,
): { stream: Transform; size: () => number; digest: () => string } {
  const hash = createHash("sha256");
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.byteLength;
      if (size > limit && tooLong) {
        done(tooLong());
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return { stream, size: () => size, digest: () => hash.digest("hex") };
}
