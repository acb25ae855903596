import { DeleteObjectCommand, GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { requestMeterOf } from "../aws/request-meter.ts";
import { ConfigError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";
import { checkLocation, newLocation } from "./keys.ts";
import { readObject } from "./read-object.ts";
import { getToFile, putFile } from "./s3-files.ts";
import { type S3Context, sdkFetcher, upload, where } from "./s3-object.ts";
import { assertBackend, type ObjectStore, type PutOptions } from "./store.ts";
import { sha256Interleaved } from "./verify.ts";

const MIB = 1024 * 1024;
/** S3's smallest part (except the last). */
const MIN_PART_BYTES = 5 * MIB;
/** The emulator refuses a part over 11 MiB; 8 MiB leaves room. */
const MAX_PART_BYTES = 8 * MIB;

export interface S3StoreOptions {
  client: S3Client;
  /** The deployment's store bucket. */
  bucket: string;
  /**
   * Multipart part size, between 5 MiB (S3's minimum) and 8 MiB; objects up to one part go
   * in a single PutObject and come back in a single GetObject, larger ones in ranged GETs of
   * this size.
   * @default 8 MiB
   */
  partSizeBytes?: number;
  /**
   * Parts uploaded, and ranges downloaded, at once; a transfer holds about queueSize ×
   * partSizeBytes of extra memory on upload.
   * @default 4
   */
  queueSize?: number;
}

export interface S3Store extends ObjectStore {
  readonly backend: "s3";
  readonly bucket: string;
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
    presignGet: (ref, expiresInSeconds) => presignGet(ctx, ref, expiresInSeconds),
    delete: (ref) => deleteObject(ctx, ref),
  };
}

/** The bytes uploaded while they are hashed: one pass each, side by side. */
async function putBytes(
  ctx: S3Context,
  bytes: Uint8Array,
  { codec, temporary = false, owner }: PutOptions,
): Promise<StoreRef> {
  const location = newLocation(codec, temporary, owner);
  const [sha256] = await Promise.all([
    sha256Interleaved(bytes),
    upload(ctx, location, bytes, codec),
  ]);
  return { store: "s3", location, size: bytes.byteLength, sha256, codec };
}

function getBytes(ctx: S3Context, ref: StoreRef): Promise<Uint8Array> {
  assertBackend(ref, "s3");
  checkLocation(ref.location);
  const { partSize, queueSize } = ctx;
  return readObject(sdkFetcher(ctx, ref), ref, where(ctx, ref), { partSize, queueSize });
}

/** A GET URL for this one object, valid `expiresInSeconds`: for a reader without credentials. */
function presignGet(ctx: S3Context, ref: StoreRef, expiresInSeconds: number): Promise<string> {
  assertBackend(ref, "s3");
  checkLocation(ref.location);
  const command = new GetObjectCommand({ Bucket: ctx.bucket, Key: ref.location });
  // The reader's GETs through the URL pass no SDK client: counted here, as readObject makes
  // them (one, or one per part), once; a range it retries is not counted.
  requestMeterOf(ctx.client)?.meter.record("s3", "GetObject (presigned URL)", {
    billed: ref.size <= ctx.partSize ? 1 : Math.ceil(ref.size / ctx.partSize),
    failed: false,
    bytesOut: 0,
    bytesIn: ref.size,
    durationMs: 0,
  });
  return getSignedUrl(ctx.client, command, { expiresIn: expiresInSeconds });
}

async function deleteObject(ctx: S3Context, ref: StoreRef): Promise<void> {
  assertBackend(ref, "s3");
  checkLocation(ref.location);
  await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: ref.location }));
}
