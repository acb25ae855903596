import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { backoffDelayMs, sleep } from "../backoff.ts";
import { FerryError, IntegrityError, ProtocolError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";
import { CORRUPTED_HINT, checkStoredSize, readVerified, verifyDigest } from "./verify.ts";

/** Bytes `start..end` of an object, both included, as HTTP's Range header counts them. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * What a GET of an object, or of one range of it, answered: a body with the object's whole
 * size as the server states it (Content-Range, or Content-Length of a whole answer), or 416
 * (the range starts past the end: the object is shorter than it should be).
 */
export type RangeAnswer =
  | { kind: "body"; body: Readable; totalSize: number | undefined; partial: boolean }
  | { kind: "unsatisfiable" };

/** GETs the whole object (no range) or one range of it: the SDK's client, or a presigned URL. */
export type RangeFetcher = (range: ByteRange | undefined) => Promise<RangeAnswer>;

export interface ReadObjectOptions {
  /** Objects larger than this are read in ranges of this size. */
  partSize: number;
  /** Ranges in flight at once. */
  queueSize: number;
  /**
   * Tries of one range whose transfer broke (a reset, a cut body, a 5xx). Errors that say
   * what is stored (integrity, a missing object) are final at once.
   * @default 3
   */
  attempts?: number;
}

/**
 * The referenced object's bytes, verified (size and sha256), in one buffer of its size. An
 * object of one part comes in one GET, hashed as it streams; a larger one in ranged GETs,
 * several at once (one connection rarely fills the link to S3), each written at its offset and
 * hashed as soon as every part before it is in: one hash pass, overlapping the transfers.
 */
export async function readObject(
  fetch: RangeFetcher,
  ref: StoreRef,
  where: string,
  options: ReadObjectOptions,
): Promise<Uint8Array> {
  if (ref.size <= options.partSize) {
    return retrying(() => readWhole(fetch, ref, where), options.attempts ?? 3, { failed: false });
  }
  return readRanges(fetch, ref, where, options);
}

async function readWhole(fetch: RangeFetcher, ref: StoreRef, where: string): Promise<Uint8Array> {
  const answer = await fetch(undefined);
  if (answer.kind !== "body") throw shorterError(ref, where);
  const { body, totalSize } = answer;
  try {
    if (totalSize !== undefined) checkStoredSize(totalSize, ref, where);
    return await readVerified(body, ref, where);
  } finally {
    // Frees the socket when we stopped early (an integrity error).
    body.destroy();
  }
}

async function readRanges(
  fetch: RangeFetcher,
  ref: StoreRef,
  where: string,
  { partSize, queueSize, attempts = 3 }: ReadObjectOptions,
): Promise<Uint8Array> {
  // Not zeroed: every byte is written by a range, or the read fails.
  const out = new Uint8Array(Buffer.allocUnsafeSlow(ref.size).buffer, 0, ref.size);
  const parts = Math.ceil(ref.size / partSize);
  const rangeOf = (index: number): ByteRange => {
    const start = index * partSize;
    return { start, end: Math.min(ref.size, start + partSize) - 1 };
  };
  const hash = createHash("sha256");
  const done: boolean[] = [];
  let hashed = 0;
  let next = 0;
  const stop = { failed: false };
  const lane = async () => {
    while (!stop.failed && next < parts) {
      const index = next++;
      const range = rangeOf(index);
      const read = () => readRange(fetch, range, out, ref, where, stop);
      if (!(await retrying(read, attempts, stop))) return;
      done[index] = true;
      // In order: the parts before this one may still be in flight.
      for (; hashed < parts && done[hashed]; hashed++) {
        const { start, end } = rangeOf(hashed);
        hash.update(out.subarray(start, end + 1));
      }
    }
  };
  const lanes = Array.from({ length: Math.min(queueSize, parts) }, () =>
    lane().catch((error: unknown) => {
      stop.failed = true;
      throw error;
    }),
  );
  // Every lane settles before we answer: none still writes into `out` after a failure.
  const settled = await Promise.allSettled(lanes);
  const failure = settled.find((s) => s.status === "rejected");
  if (failure) throw failure.reason;
  verifyDigest(hash.digest("hex"), ref, where);
  return out;
}

/** `read` again after a broken transfer, up to `attempts` tries in all. */
async function retrying<T>(
  read: () => Promise<T>,
  attempts: number,
  stop: { failed: boolean },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      const final = error instanceof FerryError && !error.retriable;
      if (final || attempt >= attempts || stop.failed) throw error;
      await sleep(backoffDelayMs(attempt - 1, { baseMs: 200, capMs: 2_000 }));
    }
  }
}

/** One range into its place in `out`; false when another range failed meanwhile. */
async function readRange(
  fetch: RangeFetcher,
  range: ByteRange,
  out: Uint8Array,
  ref: StoreRef,
  where: string,
  stop: { failed: boolean },
): Promise<boolean> {
  const answer = await fetch(range);
  if (answer.kind !== "body") throw shorterError(ref, where);
  const { body, totalSize } = answer;
  try {
    if (!answer.partial) {
      throw new ProtocolError(`${where}: the store answered a ranged GET with the whole object`, {
        context: { location: ref.location },
        hint: "the S3 endpoint must support Range requests (S3 and its emulators do)",
      });
    }
    if (totalSize !== undefined) checkStoredSize(totalSize, ref, where);
    let offset = range.start;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (stop.failed) return false;
      if (offset + chunk.byteLength > range.end + 1) throw rangeSizeError(range, where, ref);
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    if (offset !== range.end + 1) throw rangeSizeError(range, where, ref);
    return true;
  } finally {
    body.destroy();
  }
}

function shorterError(ref: StoreRef, where: string): IntegrityError {
  return new IntegrityError(`${where} is shorter than its reference's ${ref.size} bytes`, {
    hint: CORRUPTED_HINT,
    context: { location: ref.location },
  });
}

function rangeSizeError(range: ByteRange, where: string, ref: StoreRef): IntegrityError {
  return new IntegrityError(
    `${where}: the range at byte ${range.start} did not hold the ${range.end - range.start + 1} bytes asked for`,
    { hint: CORRUPTED_HINT, context: { location: ref.location } },
  );
}
