import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";

/** What one read or write of an object takes; the hash of one runs beside the I/O of the next. */
export const SLICE_BYTES = 4 * 1024 * 1024;

export interface HashedRead {
  /** The bytes read, in one buffer of the size asked for (only `length` of them are valid). */
  bytes: Uint8Array;
  /** How many of the bytes asked for the file held: fewer when it is shorter. */
  length: number;
  /** Whether the file holds more than the bytes asked for. */
  longer: boolean;
  /** sha256 (hex) of the `length` bytes read. */
  sha256: string;
}

/**
 * The first `size` bytes of an open file straight into one buffer: no chunk buffers, no
 * copies (each copy of a large object costs as much as the read itself). Each slice is hashed
 * while the next one is being read on libuv's thread pool, so the hash adds little time.
 */
export async function readHashed(handle: FileHandle, size: number): Promise<HashedRead> {
  // Unsafe (not zeroed) is fine: the caller uses only the `length` bytes read.
  const bytes = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
  const hash = createHash("sha256");
  const readSlice = (offset: number) =>
    readFully(handle, bytes.subarray(offset, Math.min(size, offset + SLICE_BYTES)), offset);
  let length = 0;
  let pending = size > 0 ? readSlice(0) : Promise.resolve(0);
  while (length < size) {
    const next = length + (await pending);
    const full = next === Math.min(size, length + SLICE_BYTES);
    if (full && next < size) pending = readSlice(next);
    hash.update(bytes.subarray(length, next));
    length = next;
    // A short slice is the end of the file.
    if (!full) break;
  }
  const extra = await handle.read(new Uint8Array(1), 0, 1, length);
  return { bytes, length, longer: extra.bytesRead > 0, sha256: hash.digest("hex") };
}

/** Fill `into` from `position`; fewer bytes only at the end of the file. */
async function readFully(handle: FileHandle, into: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await handle.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
