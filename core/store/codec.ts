import { Packr } from "msgpackr";
import { ProtocolError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";

/** How a stored object's bytes encode its value. */
export type Codec = StoreRef["codec"];

// Standard msgpack maps (no record extension) so other languages, such as a Python shell
// function, can read the objects; moreTypes carries typed arrays as typed arrays, not maps of
// their indices.
const packr = new Packr({ useRecords: false, moreTypes: true });

/**
 * The first part of `value` that JSON cannot carry faithfully (a typed array, a Date, a
 * bigint, NaN, undefined in an array, a class instance), described with its path, e.g.
 * `Float32Array at value.weights`; undefined when `value` is plain JSON.
 */
export function describeNonJson(value: unknown, path = "value"): string | undefined {
  return walk(value, path, new Set());
}

function walk(value: unknown, path: string, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${value} at ${path}`;
    case "object":
      break;
    default:
      return `${typeof value} at ${path}`;
  }
  if (value === null) return undefined;
  if (ancestors.has(value)) return `a cycle at ${path}`;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        // JSON turns undefined (and holes) in arrays into null.
        const found =
          item === undefined
            ? `undefined at ${path}[${i}]`
            : walk(item, `${path}[${i}]`, ancestors);
        if (found) return found;
      }
      return undefined;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      return `${value.constructor?.name ?? "an object with a prototype"} at ${path}`;
    }
    for (const [key, item] of Object.entries(value)) {
      // JSON drops undefined properties, as any JSON API does: optional fields stay plain.
      if (item === undefined) continue;
      const found = walk(item, `${path}.${key}`, ancestors);
      if (found) return found;
    }
    return undefined;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * A lone Uint8Array (or Buffer): stored as its own bytes, with no encoding pass. Raw bytes are
 * the common large value (file contents, images, HDF5 blobs), and each copy of many MB costs.
 */
export function isRawBytes(value: unknown): value is Uint8Array {
  return (
    value instanceof Uint8Array && (value.constructor === Uint8Array || Buffer.isBuffer(value))
  );
}

/** `json` for plain JSON values, `bytes` for a lone Uint8Array, `msgpack` for the rest. */
export function chooseCodec(value: unknown): Codec {
  if (describeNonJson(value) === undefined) return "json";
  return isRawBytes(value) ? "bytes" : "msgpack";
}

/** The value's bytes; for `bytes` the value itself, not a copy: do not change it meanwhile. */
export function encodeValue(value: unknown, codec: Codec): Uint8Array {
  try {
    if (codec === "bytes") {
      if (!isRawBytes(value)) throw new TypeError(`the bytes codec takes a Uint8Array`);
      return value;
    }
    if (codec === "msgpack") return packr.pack(value);
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`JSON cannot encode ${typeof value}`);
    return Buffer.from(text, "utf8");
  } catch (cause) {
    throw new ProtocolError(`cannot encode the value as ${codec}: ${errorMessage(cause)}`, {
      cause,
    });
  }
}

export function decodeValue(bytes: Uint8Array, codec: Codec): unknown {
  try {
    if (codec === "bytes") return bytes;
    if (codec === "msgpack") return packr.unpack(bytes);
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString());
  } catch (cause) {
    throw new ProtocolError(`stored object is not valid ${codec}: ${errorMessage(cause)}`, {
      cause,
    });
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
