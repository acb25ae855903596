import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IntegrityError, NotFoundError, RefusedError } from "#core/errors.ts";
import type { StoreRef } from "#core/protocol/index.ts";
import {
  createFileStore,
  decodePayload,
  encodePayload,
  type FileStore,
  resolveStorePolicy,
} from "#core/store/index.ts";

let base: string;
let dir: string;
let outside: string;
let store: FileStore;

const SECRET = "outside the store";
const sha = (c: string) => c.repeat(64);
const refAt = (location: string, size = SECRET.length): StoreRef => ({
  store: "file",
  location,
  size,
  sha256: sha("0"),
  codec: "json",
});

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "ferry-store-file-"));
  dir = join(base, "shared");
  outside = join(base, "outside");
  await mkdir(outside);
  await writeFile(join(outside, "secret"), SECRET);
  store = createFileStore({ dir });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("file store", () => {
  it("round-trips bytes under store/ and tmp/, with size and sha256 in the reference", async () => {
    const bytes = new TextEncoder().encode('{"hello":"world"}');
    const ref = await store.put(bytes, { codec: "json" });
    expect(ref).toMatchObject({ store: "file", size: bytes.byteLength, codec: "json" });
    expect(ref.location).toMatch(/^store\/[0-9a-f-]{36}\.json$/);
    expect(ref.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(await store.get(ref)).toString()).toBe('{"hello":"world"}');

    const temp = await store.put(bytes, { codec: "msgpack", temporary: true });
    expect(temp.location).toMatch(/^tmp\/.+\.msgpack$/);
    await store.delete(temp);
    await expect(store.get(temp)).rejects.toBeInstanceOf(NotFoundError);
    await store.delete(temp); // already gone: not an error
  });

  it.each([
    "../x",
    "/etc/passwd",
    "a/../../b",
    "store/../../outside/secret",
    "store/../../../etc/passwd",
    "tmp/..",
    "store/a\0b",
    "store\\..\\..\\x",
    "C:/Windows/win.ini",
    "registry/endpoints/x.json",
    "store/.hidden",
    "store//x",
    "store",
  ])("refuses the location %j on get and delete", async (location) => {
    await expect(store.get(refAt(location))).rejects.toBeInstanceOf(RefusedError);
    await expect(store.delete(refAt(location))).rejects.toBeInstanceOf(RefusedError);
    await expect(store.get(refAt(location))).rejects.toThrow(/store location .* refused/);
  });

  it("says what escaped and how", async () => {
    await expect(store.get(refAt("../x"))).rejects.toThrow(/'\.\.' segment escapes the store/);
    await expect(store.get(refAt("/etc/passwd"))).rejects.toThrow(/absolute path/);
    await expect(store.get(refAt("store/a\0b"))).rejects.toThrow(/NUL byte/);
  });

  it("refuses a symbolic link that leads out of the directory", async () => {
    await mkdir(join(dir, "store"), { recursive: true });
    await symlink(outside, join(dir, "store", "escape"));
    await symlink(join(outside, "secret"), join(dir, "store", "link.json"));

    await expect(store.get(refAt("store/escape/secret"))).rejects.toThrow(
      /symbolic link leads outside the store directory/,
    );
    await expect(store.get(refAt("store/link.json"))).rejects.toThrow(
      /symbolic link, which the file store never follows/,
    );
    await expect(store.delete(refAt("store/escape/secret"))).rejects.toBeInstanceOf(RefusedError);
    expect(await readFile(join(outside, "secret"), "utf8")).toBe(SECRET);
  });

  it("refuses to write through a store/ directory replaced by a link to elsewhere", async () => {
    const other = createFileStore({ dir: join(base, "hijacked") });
    await mkdir(join(base, "hijacked"), { recursive: true });
    await symlink(outside, join(base, "hijacked", "tmp"));
    await expect(
      other.put(new Uint8Array([1]), { codec: "json", temporary: true }),
    ).rejects.toBeInstanceOf(RefusedError);
    expect(await readdir(outside)).toEqual(["secret"]);
  });

  it("writes atomically: a visible object is always complete, and no temp file is left", async () => {
    const atomicDir = join(base, "atomic");
    const atomic = createFileStore({ dir: atomicDir });
    const big = new Uint8Array(64 * 1024 * 1024).fill(7);
    const seenSizes = new Set<number>();
    let done = false;
    const watching = (async () => {
      while (!done) {
        const names = await readdir(join(atomicDir, "store")).catch(() => [] as string[]);
        for (const name of names.filter((n) => !n.startsWith("."))) {
          const s = await stat(join(atomicDir, "store", name)).catch(() => undefined);
          if (s && s.size > 1000) seenSizes.add(s.size);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const ref = await atomic.put(big, { codec: "msgpack" });
    done = true;
    await watching;
    for (const size of seenSizes) expect(size).toBe(big.byteLength);
    expect(await readdir(join(atomicDir, "store"))).toEqual([ref.location.slice("store/".length)]);
    expect((await atomic.get(ref)).byteLength).toBe(big.byteLength);
    await atomic.delete(ref);
    expect(await readdir(join(atomicDir, "store"))).toEqual([]);
  });

  it("gives an integrity error, not wrong data, for a corrupted or truncated object", async () => {
    const ref = await store.put(new TextEncoder().encode('{"n":12345}'), { codec: "json" });
    const path = join(dir, ref.location);
    await writeFile(path, '{"n":54321}'); // same size, other bytes
    await expect(store.get(ref)).rejects.toBeInstanceOf(IntegrityError);
    await expect(store.get(ref)).rejects.toThrow(/has sha256 [0-9a-f]{64} but its reference says/);
    await expect(decodePayload({ ref }, { file: store })).rejects.toBeInstanceOf(IntegrityError);

    await writeFile(path, '{"n":1}');
    await expect(store.get(ref)).rejects.toThrow(/holds 7 bytes but its reference says 11/);
  });

  it("reads through its own mount of the directory (locations are relative)", async () => {
    const policies = {
      simulate: resolveStorePolicy({ backend: "file", thresholdBytes: 10, fileDir: dir }),
    };
    const { payload } = await encodePayload(
      { smiles: "C".repeat(100) },
      {
        topic: "simulate",
        policies,
        stores: { file: store },
      },
    );
    const mount = join(base, "mount");
    await symlink(dir, mount); // the agent's side sees the same directory elsewhere
    const reader = createFileStore({ dir: mount, fsync: false });
    expect(await decodePayload(payload, { file: reader })).toEqual({ smiles: "C".repeat(100) });
  });
});
