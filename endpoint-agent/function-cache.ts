import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { ControlClient } from "#core/control/index.ts";
import { FerryError, RefusedError, TransientError } from "#core/errors.ts";
import {
  type FunctionRecord,
  type FunctionRef,
  shellFunctionSha256,
} from "#core/protocol/index.ts";

/** Registry records are keyed by content hash, so a short cache only delays deregistration. */
const RECORD_TTL_MS = 60_000;

export interface FunctionCacheOptions {
  control: Pick<ControlClient, "call">;
  s3: S3Client;
  bucket: string;
  /** Bundles are kept under <cacheDir>/functions/<sha256>.mjs. */
  cacheDir: string;
}

/** Function records from the registry, and node bundles fetched once and kept by hash. */
export class FunctionCache {
  readonly #options: FunctionCacheOptions;
  readonly #records = new Map<string, { record: FunctionRecord; at: number }>();
  readonly #bundles = new Map<string, Promise<string>>();

  constructor(options: FunctionCacheOptions) {
    this.#options = options;
  }

  /** The registered record; NotFoundError when unknown, RefusedError when the hash differs. */
  async record(ref: FunctionRef, signal: AbortSignal): Promise<FunctionRecord> {
    const key = `${ref.name}@${ref.sha256}`;
    const hit = this.#records.get(key);
    if (hit && Date.now() - hit.at < RECORD_TTL_MS) return hit.record;
    const { function: record } = await this.#options.control.call(
      "getFunction",
      { name: ref.name, sha256: ref.sha256 },
      { signal },
    );
    if (record.sha256 !== ref.sha256) {
      throw new RefusedError(
        `function ${ref.name}: the registry holds sha256 ${record.sha256}, not the task's ${ref.sha256}`,
        { context: { functionName: ref.name } },
      );
    }
    // A shell function's hash is its argv's: a record whose argv was changed after
    // registration (by anyone who can write the registry) no longer matches and never runs.
    if (record.spec.kind === "shell" && shellFunctionSha256(record.spec.argv) !== ref.sha256) {
      throw new RefusedError(
        `function ${ref.name}: its registered argv does not hash to sha256 ${ref.sha256}; the record was changed after registration`,
        { context: { functionName: ref.name } },
      );
    }
    this.#records.set(key, { record, at: Date.now() });
    return record;
  }

  /** Local path of the node bundle, fetched and hash-checked on first use. */
  bundlePath(record: FunctionRecord, signal: AbortSignal): Promise<string> {
    if (record.spec.kind !== "node") {
      throw new FerryError(`function ${record.name} is not a node function`);
    }
    const bundleKey = record.spec.bundleKey;
    let pending = this.#bundles.get(record.sha256);
    if (!pending) {
      pending = this.#fetch(record.name, record.sha256, bundleKey, signal);
      this.#bundles.set(record.sha256, pending);
      // A failed fetch must not be remembered; the next task tries again.
      pending.catch(() => this.#bundles.delete(record.sha256));
    }
    return pending;
  }

  async #fetch(name: string, sha256: string, key: string, signal: AbortSignal): Promise<string> {
    const dir = join(this.#options.cacheDir, "functions");
    const path = join(dir, `${sha256}.mjs`);
    const cached = await readFile(path).catch(() => undefined);
    if (cached && sha256Hex(cached) === sha256) return path;
    let bytes: Uint8Array;
    try {
      const out = await this.#options.s3.send(
        new GetObjectCommand({ Bucket: this.#options.bucket, Key: key }),
        { abortSignal: signal },
      );
      if (!out.Body) throw new Error("empty response body");
      bytes = await out.Body.transformToByteArray();
    } catch (cause) {
      const name404 = (cause as { name?: string }).name;
      if (name404 === "NoSuchKey" || name404 === "NotFound") {
        throw new RefusedError(
          `function ${name}: its bundle s3://${this.#options.bucket}/${key} is missing`,
          {
            cause,
            context: { functionName: name },
            hint: "register the function again",
          },
        );
      }
      throw new TransientError(`cannot fetch the bundle of function ${name} from the store`, {
        cause,
        context: { functionName: name },
      });
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new RefusedError(
        `function ${name}: the stored bundle's sha256 is ${actual}, but the registry says ${sha256}`,
        { context: { functionName: name }, hint: "register the function again" },
      );
    }
    await mkdir(dir, { recursive: true });
    // Write then rename: another agent on a shared filesystem never sees half a bundle.
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
    return path;
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
