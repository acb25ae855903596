import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { z } from "zod";
import { describeError, FerryError } from "#core/errors.ts";
import { PROTOCOL_VERSION, RegistryIndexSnapshot } from "#core/protocol/index.ts";
import { mapLimit } from "./concurrency.ts";
import { bareEtag, type ListedObject, listObjects, rangeBounds } from "./registry-listing.ts";

// The registry's records under one prefix, read by listing: a record is fetched only when its
// ETag differs from the copy at hand. The copies live in memory (a warm Lambda keeps them) and
// in a snapshot object (a cold one reads them all in one GET), so a listing of N unchanged
// records costs N / 1,000 ListObjectsV2 pages, in parallel, and no GET. The listing is always
// fresh and decides: a stale, lost or concurrently overwritten snapshot costs GETs, never a
// wrong answer.

/** A record with what its listing said of it. */
export interface IndexedRecord<T> {
  key: string;
  /** When S3 stored it (epoch ms), undefined where the listing did not say. */
  lastModified: number | undefined;
  record: T;
}

/** What the actions see of an index: its records, read by listing. */
export interface IndexedRecords<T> {
  read(prefix?: string, startAfter?: string): Promise<IndexedRecord<T>[]>;
  /** Write a record, keeping its copy. */
  put(key: string, record: T): Promise<void>;
  /** Drop the copy of a deleted record. */
  forget(key: string): void;
}

export interface RecordIndexOptions<S extends z.ZodType> {
  s3: S3Client;
  bucket: string;
  /** The prefix the index (and its snapshot) covers; narrower prefixes may be read too. */
  prefix: string;
  schema: S;
  /** Where the snapshot lives (registryKeys.index). */
  snapshotKey: string;
  /** A range bound after `key`'s group, so that a group stays in one range (rangeBounds). */
  boundOf?: (key: string) => string;
  now: () => number;
}

/** GETs in flight for changed records: well under S3's per-prefix rate. */
const READ_CONCURRENCY = 32;
/** Fewer changed records than this are read one by one, without reading the snapshot. */
const SNAPSHOT_WORTH = 32;
/** The snapshot is rewritten once this many of its entries (or this share of all) are stale. */
const REWRITE_STALE = 32;
const REWRITE_STALE_SHARE = 0.02;

interface Cached<T> {
  etag: string;
  record: T;
}

export class RecordIndex<S extends z.ZodType> implements IndexedRecords<z.infer<S>> {
  readonly #o: RecordIndexOptions<S>;
  readonly #cache = new Map<string, Cached<z.infer<S>>>();
  /** Records that did not parse, by the ETag they had: not read (nor logged) again until changed. */
  readonly #bad = new Map<string, string>();
  /** The snapshot object as this container last read or wrote it: key -> ETag, and its own ETag. */
  #snapshot: { etags: Map<string, string>; objectEtag?: string } = { etags: new Map() };

  constructor(options: RecordIndexOptions<S>) {
    this.#o = options;
  }

  /**
   * The records under `prefix` (the index's own by default) after `startAfter`, in key order.
   * Records that vanish between the listing and their GET, or do not parse, are left out (the
   * latter logged): one bad record must not hide every other.
   */
  async read(prefix = this.#o.prefix, startAfter?: string): Promise<IndexedRecord<z.infer<S>>[]> {
    const { s3, bucket } = this.#o;
    const known = [...this.#cache.keys()]
      .filter((k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter))
      .sort();
    const listed = await listObjects(s3, bucket, prefix, {
      startAfter,
      bounds: rangeBounds(known, this.#o.boundOf),
    });
    // This read's own copies: concurrent reads may change the shared cache meanwhile.
    const copies = new Map<string, Cached<z.infer<S>>>();
    const take = (key: string, copy: Cached<z.infer<S>> | undefined) => {
      if (copy) copies.set(key, copy);
    };
    for (const o of listed) take(o.key, this.#copy(o.key, o.etag));
    let changed = listed.filter((o) => !copies.has(o.key) && this.#bad.get(o.key) !== o.etag);
    if (changed.length >= SNAPSHOT_WORTH && prefix.startsWith(this.#o.prefix)) {
      // Only a cache: one that cannot be read costs the GETs it would have saved.
      await this.#loadSnapshot(new Map(changed.map((o) => [o.key, o.etag]))).catch(warnOf("read"));
      for (const o of changed) take(o.key, this.#copy(o.key, o.etag));
      changed = changed.filter((o) => !copies.has(o.key));
    }
    await mapLimit(changed, READ_CONCURRENCY, async (o) => take(o.key, await this.#fetch(o.key)));
    if (prefix === this.#o.prefix && startAfter === undefined) {
      this.#forgetUnlisted(listed);
      await this.#maybeWriteSnapshot(listed, copies).catch(warnOf("written"));
    }
    return listed.flatMap((o) => {
      const copy = copies.get(o.key);
      return copy ? [{ key: o.key, lastModified: o.lastModified, record: copy.record }] : [];
    });
  }

  /**
   * Write a record (as the record store writes one) and keep its copy under the ETag S3
   * answered: the next listing need not read back what this container wrote.
   */
  async put(key: string, record: z.infer<S>): Promise<void> {
    const out = await this.#o.s3.send(
      new PutObjectCommand({
        Bucket: this.#o.bucket,
        Key: key,
        Body: JSON.stringify(record),
        ContentType: "application/json",
      }),
    );
    if (out.ETag) this.#cache.set(key, { etag: bareEtag(out.ETag), record });
    else this.#cache.delete(key);
  }

  /** Drop a copy (its record was deleted). */
  forget(key: string): void {
    this.#cache.delete(key);
  }

  /** The copy of `key` at `etag`, if this container has it. */
  #copy(key: string, etag: string): Cached<z.infer<S>> | undefined {
    const cached = this.#cache.get(key);
    return cached?.etag === etag ? cached : undefined;
  }

  /** GET one record and keep it with the ETag the GET answered (it may be newer than listed). */
  async #fetch(key: string): Promise<Cached<z.infer<S>> | undefined> {
    const got = await getText(this.#o.s3, this.#o.bucket, key);
    const record =
      got && got !== "unchanged" ? parseRecord(this.#o.schema, key, got.text) : undefined;
    if (!got || got === "unchanged" || record === undefined) {
      this.#cache.delete(key);
      if (got && got !== "unchanged") this.#bad.set(key, got.etag);
      return undefined;
    }
    const copy = { etag: got.etag, record };
    this.#cache.set(key, copy);
    return copy;
  }

  /**
   * Copy the snapshot's records into the cache (one GET; none while it has not changed since
   * this container last read it). A copy the cache has stays unless the snapshot's is the one
   * `wanted` (key -> the listed ETag).
   */
  async #loadSnapshot(wanted: ReadonlyMap<string, string>): Promise<void> {
    const { s3, bucket, snapshotKey, prefix, schema } = this.#o;
    const got = await getText(s3, bucket, snapshotKey, this.#snapshot.objectEtag);
    if (got === "unchanged" || !got) return;
    const snapshot = parseRecord(RegistryIndexSnapshot, snapshotKey, got.text);
    if (!snapshot || snapshot.prefix !== prefix) return;
    const etags = new Map<string, string>();
    for (const [rest, etag, raw] of snapshot.entries) {
      const key = prefix + rest;
      etags.set(key, etag);
      if (this.#cache.has(key) && wanted.get(key) !== etag) continue;
      const parsed = schema.safeParse(raw);
      if (parsed.success) this.#cache.set(key, { etag, record: parsed.data as z.infer<S> });
    }
    this.#snapshot = { etags, objectEtag: got.etag };
  }

  /** A full listing names every record there is: copies of the others go. */
  #forgetUnlisted(listed: readonly ListedObject[]): void {
    const keys = new Set(listed.map((o) => o.key));
    for (const map of [this.#cache, this.#bad]) {
      for (const key of map.keys()) {
        if (key.startsWith(this.#o.prefix) && !keys.has(key)) map.delete(key);
      }
    }
  }

  /** Rewrite the snapshot once enough of it is stale: new, changed or deleted records. */
  async #maybeWriteSnapshot(
    listed: readonly ListedObject[],
    copies: ReadonlyMap<string, Cached<z.infer<S>>>,
  ): Promise<void> {
    const { etags } = this.#snapshot;
    let stale = 0;
    let kept = 0;
    for (const o of listed) {
      const snapped = etags.get(o.key);
      if (snapped !== undefined) kept++;
      if (snapped !== copies.get(o.key)?.etag) stale++;
    }
    stale += etags.size - kept;
    if (stale < Math.max(REWRITE_STALE, listed.length * REWRITE_STALE_SHARE)) return;
    const { s3, bucket, snapshotKey, prefix, now } = this.#o;
    const entries = listed.flatMap((o): [string, string, unknown][] => {
      const copy = copies.get(o.key);
      return copy ? [[o.key.slice(prefix.length), copy.etag, copy.record]] : [];
    });
    const snapshot: RegistryIndexSnapshot = {
      v: PROTOCOL_VERSION,
      prefix,
      writtenAt: now(),
      entries,
    };
    const out = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: snapshotKey,
        Body: JSON.stringify(snapshot),
        ContentType: "application/json",
      }),
    );
    this.#snapshot = {
      etags: new Map(entries.map(([rest, etag]) => [prefix + rest, etag])),
      ...(out.ETag ? { objectEtag: bareEtag(out.ETag) } : {}),
    };
  }
}

/**
 * An object's text and ETag; undefined when there is none, "unchanged" when it still has
 * `ifNoneMatch` (304).
 */
async function getText(
  s3: S3Client,
  bucket: string,
  key: string,
  ifNoneMatch?: string,
): Promise<{ text: string; etag: string } | "unchanged" | undefined> {
  try {
    const out = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(ifNoneMatch ? { IfNoneMatch: `"${ifNoneMatch}"` } : {}),
      }),
    );
    return { text: (await out.Body?.transformToString("utf8")) ?? "", etag: bareEtag(out.ETag) };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 304) return "unchanged";
    const name = (error as { name?: string }).name;
    if (name === "NoSuchKey" || name === "NotFound" || status === 404) return undefined;
    throw error;
  }
}

/** A record parsed with its schema; a corrupt one is logged and treated as absent. */
function parseRecord<S extends z.ZodType>(
  schema: S,
  key: string,
  text: string,
): z.infer<S> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    warn(new FerryError(`registry record ${key} is not JSON`));
    return undefined;
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data as z.infer<S>;
  const issue = parsed.error.issues[0];
  warn(
    new FerryError(
      `registry record ${key} is invalid: ${issue?.path.join(".")}: ${issue?.message}`,
    ),
  );
  return undefined;
}

/** Log a snapshot that could not be read or written, and go on without it. */
function warnOf(what: "read" | "written") {
  return (error: unknown) =>
    warn(new FerryError(`registry index snapshot not ${what}: ${describeError(error)}`));
}

function warn(error: FerryError): void {
  console.error(JSON.stringify({ level: "warn", msg: error.message }));
}
