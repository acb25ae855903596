import { createHash, randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, realpath, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { NotFoundError, RefusedError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";
import { resolveInside } from "./file-paths.ts";
import { readHashed, SLICE_BYTES } from "./file-read.ts";
import { newLocation } from "./keys.ts";
import { assertBackend, type ObjectStore, type PutOptions } from "./store.ts";
import { checkStoredSize, verifyDigest } from "./verify.ts";

export interface FileStoreOptions {
  /**
   * The directory both sides mount (each side may mount it at its own path: references hold
   * locations relative to it). Created if missing.
   */
  dir: string;
  /**
   * fsync each object and its directory before handing out its reference, so a reader on
   * another node never holds a reference to bytes still in a page cache.
   * @default true
   */
  fsync?: boolean;
}

export interface FileStore extends ObjectStore {
  readonly backend: "file";
  /** The store directory, absolute. */
  readonly dir: string;
}

/** What every operation of one file store shares. */
interface FileContext {
  dir: string;
  fsync: boolean;
  /** The store directory's real path, created on first use. */
  root: () => Promise<string>;
}

/** The `file` backend: objects as files under one shared directory, written atomically. */
export function createFileStore(options: FileStoreOptions): FileStore {
  const dir = resolve(options.dir);
  let rootReal: Promise<string> | undefined;
  const ctx: FileContext = {
    dir,
    fsync: options.fsync ?? true,
    root: () => {
      rootReal ??= mkdir(dir, { recursive: true }).then(() => realpath(dir));
      return rootReal;
    },
  };
  return {
    backend: "file",
    dir,
    put: (bytes, putOptions) => putBytes(ctx, bytes, putOptions),
    get: (ref) => getBytes(ctx, ref),
    delete: (ref) => deleteFile(ctx, ref),
  };
}

function where(ctx: FileContext, ref: StoreRef): string {
  return `file store object ${ref.location} in ${ctx.dir}`;
}

async function putBytes(
  ctx: FileContext,
  bytes: Uint8Array,
  { codec, temporary = false, owner }: PutOptions,
): Promise<StoreRef> {
  const rootPath = await ctx.root();
  const location = newLocation(codec, temporary, owner);
  await mkdir(join(rootPath, dirname(location)), { recursive: true });
  const target = await resolveInside(rootPath, location);
  const sha256 = await writeAtomically(target, bytes, ctx.fsync);
  if (ctx.fsync) await syncDirectory(dirname(target));
  return { store: "file", location, size: bytes.byteLength, sha256, codec };
}

/**
 * Write beside the target and rename: readers see the whole object or none of it. Returns the
 * bytes' sha256, hashed slice by slice while the slice before is being written (the write
 * runs on libuv's thread pool): the hash costs no time of its own.
 */
async function writeAtomically(target: string, bytes: Uint8Array, fsync: boolean): Promise<string> {
  const temp = join(dirname(target), `.${basename(target)}.${randomUUID()}.partial`);
  const hash = createHash("sha256");
  try {
    const handle = await open(temp, "wx");
    try {
      for (let offset = 0; offset < bytes.byteLength; offset += SLICE_BYTES) {
        const slice = bytes.subarray(offset, offset + SLICE_BYTES);
        const written = writeAll(handle, slice, offset);
        hash.update(slice);
        await written;
      }
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    return hash.digest("hex");
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Write all of `slice` at `position` (a write may take fewer bytes than it was given). */
async function writeAll(handle: FileHandle, slice: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < slice.byteLength) {
    const { bytesWritten } = await handle.write(
      slice,
      done,
      slice.byteLength - done,
      position + done,
    );
    done += bytesWritten;
  }
}

async function getBytes(ctx: FileContext, ref: StoreRef): Promise<Uint8Array> {
  assertBackend(ref, "file");
  const path = await resolveInside(await ctx.root(), ref.location);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    throw openError(error, ref, where(ctx, ref));
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new RefusedError(`${where(ctx, ref)} is not a regular file`);
    checkStoredSize(stat.size, ref, where(ctx, ref));
    return await readWhole(handle, ref, where(ctx, ref));
  } finally {
    await handle.close();
  }
}

async function deleteFile(ctx: FileContext, ref: StoreRef): Promise<void> {
  assertBackend(ref, "file");
  const path = await resolveInside(await ctx.root(), ref.location);
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** The whole object, verified against its reference (size and sha256). */
async function readWhole(handle: FileHandle, ref: StoreRef, where: string): Promise<Uint8Array> {
  const read = await readHashed(handle, ref.size);
  // A file that shrank or grew since stat is caught here or by the hash.
  checkStoredSize(read.length, ref, where);
  if (read.longer) checkStoredSize(read.length + 1, ref, where);
  verifyDigest(read.sha256, ref, where);
  return read.bytes;
}

function openError(error: unknown, ref: StoreRef, where: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") {
    return new NotFoundError(`${where} does not exist`, {
      context: { location: ref.location },
      hint: "it was deleted after its last reader, or this side mounts a different directory",
    });
  }
  if (code === "ELOOP") {
    return new RefusedError(`${where} is a symbolic link, which the file store never follows`, {
      context: { location: ref.location },
      hint: "keys of the file store can never leave its directory",
    });
  }
  return error;
}

/** Make the rename itself durable. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } catch (error) {
    // Some network filesystems cannot fsync a directory; the rename is still atomic there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EBADF") throw error;
  } finally {
    await handle.close();
  }
}
