// readObject against a fake store: whole and ranged reads, ranges answered out of order, broken
// transfers tried again, and what a store that ignores Range, cuts a body or holds a shorter
// object gets (clear errors, never wrong bytes). Also when the agent hands workers URLs.
import { createHash, randomFillSync } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { presignSeconds, workersReachStore } from "#agent/task-data.ts";
import { IntegrityError, ProtocolError } from "#core/errors.ts";
import type { StoreRef } from "#core/protocol/index.ts";
import { type RangeFetcher, readObject } from "#core/store/read-object.ts";

const PART = 1024;
const options = { partSize: PART, queueSize: 3 };
const bytes = randomFillSync(new Uint8Array(5 * PART + 17));
const ref: StoreRef = {
  store: "s3",
  location: "tmp/x.bytes",
  size: bytes.byteLength,
  sha256: createHash("sha256").update(bytes).digest("hex"),
  codec: "bytes",
};

/** A store holding `held`, answering ranges after `delayMs(start)`, in chunks of 100 bytes. */
function fakeStore(
  held: Uint8Array,
  o: {
    delayMs?: (start: number) => number;
    ignoreRange?: boolean;
    fail?: (n: number) => boolean;
  } = {},
) {
  const asked: Array<string> = [];
  let n = 0;
  const fetch: RangeFetcher = async (range) => {
    asked.push(range ? `${range.start}-${range.end}` : "whole");
    const call = n++;
    await delay(o.delayMs?.(range?.start ?? 0) ?? 0);
    if (range && range.start >= held.byteLength) return { kind: "unsatisfiable" };
    const whole = !range || o.ignoreRange;
    const slice = whole ? held : held.subarray(range.start, range.end + 1);
    const chunks = Array.from({ length: Math.ceil(slice.byteLength / 100) }, (_, i) =>
      Buffer.from(slice.subarray(i * 100, (i + 1) * 100)),
    );
    const broken = o.fail?.(call) ?? false;
    const body = Readable.from(
      (async function* () {
        for (const [i, chunk] of chunks.entries()) {
          if (broken && i === 1) throw new Error("socket hang up");
          yield chunk;
        }
      })(),
    );
    return { kind: "body", body, totalSize: held.byteLength, partial: !whole };
  };
  return { fetch, asked };
}

describe("readObject", () => {
  it("reads an object of one part in one GET, and a larger one by ranges, byte-identical", async () => {
    const small = bytes.subarray(0, PART);
    const smallRef = {
      ...ref,
      size: PART,
      sha256: createHash("sha256").update(small).digest("hex"),
    };
    const one = fakeStore(small);
    expect(Buffer.from(await readObject(one.fetch, smallRef, "obj", options))).toEqual(
      Buffer.from(small),
    );
    expect(one.asked).toEqual(["whole"]);

    // Later ranges answer first: each is placed at its offset and hashed in order.
    const many = fakeStore(bytes, { delayMs: (start) => 30 - start / 200 });
    expect(Buffer.from(await readObject(many.fetch, ref, "obj", options))).toEqual(
      Buffer.from(bytes),
    );
    expect(many.asked.sort()).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => `${i * PART}-${Math.min(ref.size, (i + 1) * PART) - 1}`).sort(),
    );
  });

  it("tries a range again when its transfer broke, and gives up after its attempts", async () => {
    const flaky = fakeStore(bytes, { fail: (call) => call === 1 });
    expect(Buffer.from(await readObject(flaky.fetch, ref, "obj", options))).toEqual(
      Buffer.from(bytes),
    );
    expect(flaky.asked).toHaveLength(7);
    const broken = fakeStore(bytes, { fail: () => true });
    await expect(readObject(broken.fetch, ref, "obj", { ...options, attempts: 2 })).rejects.toThrow(
      "socket hang up",
    );
  });

  it("refuses changed, shorter and longer objects and a store that ignores Range", async () => {
    const changed = Uint8Array.from(bytes);
    changed[3 * PART] = (changed[3 * PART] ?? 0) ^ 1;
    await expect(readObject(fakeStore(changed).fetch, ref, "obj", options)).rejects.toThrow(
      new RegExp(`^obj has sha256 [0-9a-f]{64} but its reference says ${ref.sha256}$`),
    );
    const shorter = fakeStore(bytes.subarray(0, 2 * PART));
    const error = await readObject(shorter.fetch, ref, "obj", options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toMatch(/holds 2048 bytes|shorter/);
    const longer = fakeStore(Buffer.concat([bytes, Buffer.from("x")]));
    await expect(readObject(longer.fetch, ref, "obj", options)).rejects.toThrow(
      `obj holds ${ref.size + 1} bytes but its reference says ${ref.size}`,
    );
    const ignoring = fakeStore(bytes, { ignoreRange: true });
    await expect(readObject(ignoring.fetch, ref, "obj", options)).rejects.toThrow(ProtocolError);
  });
});

describe("presigned argument URLs", () => {
  it("are handed to workers unless the agent uses a proxy its workers are not given", () => {
    expect(workersReachStore([], {})).toBe(true);
    expect(workersReachStore([], { HTTPS_PROXY: "http://proxy:3128" })).toBe(false);
    expect(workersReachStore(["HTTPS_PROXY"], { HTTPS_PROXY: "http://proxy:3128" })).toBe(true);
    expect(workersReachStore(["HTTPS_PROXY"], { HTTPS_PROXY: "x", http_proxy: "y" })).toBe(false);
  });

  it("last 15 minutes and a second more per MB, at most a week (SigV4's limit)", () => {
    expect(presignSeconds(0)).toBe(900);
    expect(presignSeconds(100_000_000)).toBe(1_000);
    expect(presignSeconds(10 ** 15)).toBe(7 * 24 * 3600);
  });
});
