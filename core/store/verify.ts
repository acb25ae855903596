import { createHash } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import { IntegrityError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";

export const CORRUPTED_HINT =
  "the stored object was corrupted or replaced after it was written; submit the task again to store a fresh copy";

/** What sha256Interleaved hashes between two turns of the event loop (about 0.5 ms). */
const HASH_SLICE_BYTES = 1024 * 1024;

/**
 * A sha256 (hex) in slices, yielding to the event loop between them: run beside an upload of the
 * same bytes, the hash fills the time the upload waits on the network (and on a local store's
 * other process) instead of coming before it. Do not change the bytes meanwhile.
 */
export async function sha256Interleaved(bytes: Uint8Array): Promise<string> {
  const hash = createHash("sha256");
  for (let offset = 0; offset < bytes.byteLength; offset += HASH_SLICE_BYTES) {
    if (offset > 0) await nextTurn();
    hash.update(bytes.subarray(offset, offset + HASH_SLICE_BYTES));
  }
  return hash.digest("hex");
}

/** Refuse before reading when the stored size already differs from the reference. */
export function checkStoredSize(actualBytes: number, ref: StoreRef, where: string): void {
  if (actualBytes !== ref.size) {
    throw new IntegrityError(
      `${where} holds ${actualBytes} bytes but its reference says ${ref.size}`,
      { hint: CORRUPTED_HINT, context: { location: ref.location } },
    );
  }
}

/**
 * Collect a stored object's bytes as they stream in, hashing on the way, into one buffer of
 * the reference's size (no concatenation copies). Only bytes whose size and sha256 match the
 * reference are returned; anything else is an IntegrityError.
 */
export async function readVerified(
  chunks: AsyncIterable<Uint8Array>,
  ref: StoreRef,
  where: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(ref.size);
  const hash = createHash("sha256");
  let offset = 0;
  for await (const chunk of chunks) {
    if (offset + chunk.byteLength > ref.size) {
      throw new IntegrityError(`${where} is longer than its reference's ${ref.size} bytes`, {
        hint: CORRUPTED_HINT,
        context: { location: ref.location },
      });
    }
    out.set(chunk, offset);
    hash.update(chunk);
    offset += chunk.byteLength;
  }
  checkStoredSize(offset, ref, where);
  verifyDigest(hash.digest("hex"), ref, where);
  return out;
}

/** Refuse a computed sha256 (hex) that differs from the reference's. */
export function verifyDigest(actual: string, ref: StoreRef, where: string): void {
  if (actual !== ref.sha256) {
    throw new IntegrityError(`${where} has sha256 ${actual} but its reference says ${ref.sha256}`, {
      hint: CORRUPTED_HINT,
      context: { location: ref.location },
    });
  }
}
