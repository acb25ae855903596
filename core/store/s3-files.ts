import { createHash } from "node:crypto";
import { constants, createWriteStream } from "node:fs";
import { type FileHandle, mkdir, open, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { IntegrityError, ProtocolError, RefusedError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";
import { readHashed } from "./file-read.ts";
import { checkLocation, newLocation } from "./keys.ts";
import { getObject, type S3Context, upload, where } from "./s3-object.ts";
import { assertBackend, type PutFileOptions } from "./store.ts";
import { checkStoredSize, verifyDigest } from "./verify.ts";

// The S3 store's operations on local files: an object streamed into a file, a file streamed
// into an object, each verified on the way.

/**
 * What one read of a file takes. Large enough that a file goes in few reads; small beside a
 * part, since lib-storage gathers a stream's chunks into parts by copying them once.
 */
const FILE_CHUNK_BYTES = 1024 * 1024;

/**
 * Files up to this size are uploaded from one buffer: no copy, and a file that is not what its
 * writer claims is refused before anything is sent. Past it the agent would hold too much at
 * once (a slot's result is already whole in its worker), so the file streams.
 */
const WHOLE_FILE_MAX_BYTES = 256 * 1024 * 1024;

export async function getToFile(ctx: S3Context, ref: StoreRef, path: string): Promise<void> {
  assertBackend(ref, "s3");
  checkLocation(ref.location);
  const { Body: body, ContentLength } = await getObject(ctx, ref);
  if (!(body instanceof Readable)) {
    throw new ProtocolError(`${where(ctx, ref)}: the S3 client returned no Node stream`);
  }
  const counted = countingHash(
    ref.size,
    () => new IntegrityError(`${where(ctx, ref)} is longer than its reference's ${ref.size} bytes`),
  );
  try {
    if (ContentLength !== undefined) checkStoredSize(ContentLength, ref, where(ctx, ref));
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

/**
 * A local file's bytes as a new object. Its writer may be a function's worker, which is not
 * trusted: the size and sha256 it claims are checked against what is read (one read, one
 * hash), and a file that differs is refused. Files up to WHOLE_FILE_MAX_BYTES are read whole
 * first and then sent without a copy; larger ones stream (lib-storage copies a stream's
 * chunks into parts once), checked after the upload and the object removed on a mismatch.
 */
export async function putFile(
  ctx: S3Context,
  path: string,
  options: PutFileOptions,
): Promise<StoreRef> {
  const { codec, temporary = false, owner, size, sha256 } = options;
  const claimed: StoreRef = {
    store: "s3",
    location: newLocation(codec, temporary, owner),
    size,
    sha256,
    codec,
  };
  // The last component is never followed: a link planted by the writer reads nothing.
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new RefusedError(`${path} is not a regular file`);
    // A file already of another size is refused before anything is sent.
    checkStoredSize(stat.size, claimed, where(ctx, claimed));
    if (size > WHOLE_FILE_MAX_BYTES) return await streamFile(ctx, handle, claimed);
    const read = await readHashed(handle, size);
    checkStoredSize(read.length + (read.longer ? 1 : 0), claimed, where(ctx, claimed));
    verifyDigest(read.sha256, claimed, where(ctx, claimed));
    await upload(ctx, claimed.location, read.bytes, codec);
    return claimed;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The file streamed into the claimed object, checked on the way; removed when it differs. */
async function streamFile(
  ctx: S3Context,
  handle: FileHandle,
  claimed: StoreRef,
): Promise<StoreRef> {
  const read = { size: 0, hash: createHash("sha256") };
  const tooLong = () => sizeError(ctx, claimed);
  const body = Readable.from(fileChunks(handle, read, claimed.size, tooLong));
  await upload(ctx, claimed.location, body, claimed.codec);
  try {
    checkStoredSize(read.size, claimed, where(ctx, claimed));
    verifyDigest(read.hash.digest("hex"), claimed, where(ctx, claimed));
  } catch (error) {
    await ctx.client
      .send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: claimed.location }))
      .catch(() => undefined);
    throw error;
  }
  return claimed;
}

/**
 * The file's bytes in chunks, counted and hashed; each next read is under way while a chunk
 * is hashed and sent. Past `limit` bytes it fails with `tooLong()` (the upload is aborted).
 */
async function* fileChunks(
  handle: FileHandle,
  read: { size: number; hash: ReturnType<typeof createHash> },
  limit: number,
  tooLong: () => Error,
): AsyncGenerator<Buffer> {
  const readAt = (position: number) => {
    const pending = handle
      .read(Buffer.allocUnsafe(FILE_CHUNK_BYTES), 0, FILE_CHUNK_BYTES, position)
      .then(({ buffer, bytesRead }) => buffer.subarray(0, bytesRead));
    // Handled where awaited; this only keeps an abandoned read from being an unhandled one.
    pending.catch(() => undefined);
    return pending;
  };
  let pending = readAt(0);
  for (;;) {
    const chunk = await pending;
    if (chunk.byteLength === 0) return;
    read.size += chunk.byteLength;
    if (read.size > limit) throw tooLong();
    pending = readAt(read.size);
    read.hash.update(chunk);
    yield chunk;
  }
}

function sizeError(ctx: S3Context, ref: StoreRef): IntegrityError {
  return new IntegrityError(`${where(ctx, ref)} is longer than its reference's ${ref.size} bytes`);
}

/**
 * A pass-through stream that counts and hashes what flows through it; past `limit` bytes it
 * fails with `tooLong()` instead of passing the chunk on.
 */
function countingHash(
  limit: number,
  tooLong: () => Error,
): { stream: Transform; size: () => number; digest: () => string } {
  const hash = createHash("sha256");
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.byteLength;
      if (size > limit) {
        done(tooLong());
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return { stream, size: () => size, digest: () => hash.digest("hex") };
}
