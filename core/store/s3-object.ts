import { Readable } from "node:stream";
import { GetObjectCommand, type S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { NotFoundError, ProtocolError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";
import type { Codec } from "./codec.ts";
import type { RangeFetcher } from "./read-object.ts";

// What the S3 store's operations (s3-store.ts, s3-files.ts) are built from: one upload, one
// GetObject, whole or by range.

const CONTENT_TYPES: Record<Codec, string> = {
  json: "application/json",
  msgpack: "application/vnd.msgpack",
  bytes: "application/octet-stream",
};

/** What every operation of one S3 store shares. */
export interface S3Context {
  client: S3Client;
  bucket: string;
  partSize: number;
  queueSize: number;
}

export function where(ctx: S3Context, ref: StoreRef): string {
  return `s3 store object s3://${ctx.bucket}/${ref.location}`;
}

/**
 * Upload under `location`, in parts of partSize (lib-storage's multipart Upload, queueSize
 * parts at once; a body of one part goes in one PutObject). Bytes are sliced, not copied.
 */
export async function upload(
  ctx: S3Context,
  location: string,
  body: Uint8Array | Readable,
  codec: Codec,
): Promise<void> {
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
      // For people browsing the bucket; reads trust only the reference (which alone carries
      // the sha256: it is computed while the bytes are sent, not before).
      Metadata: { codec },
    },
  }).done();
}

/** GetObject, whole or one range, for readObject; a missing key as NotFoundError. */
export function sdkFetcher(ctx: S3Context, ref: StoreRef): RangeFetcher {
  return async (range) => {
    const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
    let response: Awaited<ReturnType<typeof getObject>>;
    try {
      response = await getObject(ctx, ref, Range);
    } catch (error) {
      if (range && error instanceof S3ServiceException && error.name === "InvalidRange") {
        return { kind: "unsatisfiable" };
      }
      throw error;
    }
    const { Body: body, ContentRange, ContentLength } = response;
    if (!(body instanceof Readable)) {
      throw new ProtocolError(`${where(ctx, ref)}: the S3 client returned no Node stream`);
    }
    const total = ContentRange === undefined ? undefined : /\/(\d+)$/.exec(ContentRange)?.[1];
    const partial = response.$metadata.httpStatusCode === 206;
    const totalSize = partial ? (total === undefined ? undefined : Number(total)) : ContentLength;
    return { kind: "body", body, totalSize, partial };
  };
}

/** GetObject, a missing key as NotFoundError. */
export async function getObject(ctx: S3Context, ref: StoreRef, range?: string) {
  try {
    return await ctx.client.send(
      new GetObjectCommand({
        Bucket: ctx.bucket,
        Key: ref.location,
        ...(range === undefined ? {} : { Range: range }),
      }),
    );
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
