import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { mapLimit } from "./concurrency.ts";

/** One object of a listing, as ListObjectsV2 describes it: no GET needed to know it changed. */
export interface ListedObject {
  key: string;
  /** Without its quotes. The same bytes under the same key keep the same ETag. */
  etag: string;
  /** Epoch ms (S3 keeps whole seconds); undefined where the listing did not say. */
  lastModified: number | undefined;
}

export interface ListOptions {
  /** Only keys after this one (ListObjectsV2 StartAfter). */
  startAfter?: string | undefined;
  /**
   * Keys that cut the listing into ranges listed in parallel, each up to and including its
   * bound: typically every 1,000th key of the previous listing, so that each range is one page
   * while little changed. A listing is as complete without them, only one page after another.
   */
  bounds?: readonly string[];
}

/** What one ListObjectsV2 page holds at most. */
export const LIST_PAGE_KEYS = 1_000;
/** Ranges listed at once: a 10,000-key listing takes about one page's time. */
const RANGES_IN_FLIGHT = 16;

/**
 * Every object under `prefix` (after `startAfter`), in key order. ListObjectsV2 is strongly
 * consistent: an object written before the listing starts is in it.
 */
export async function listObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
  options: ListOptions = {},
): Promise<ListedObject[]> {
  const { startAfter } = options;
  const bounds = [...new Set(options.bounds ?? [])]
    .filter((b) => b.startsWith(prefix) && (startAfter === undefined || b > startAfter))
    .sort(byKey);
  const ranges = [startAfter, ...bounds].map((lo, i) => ({ lo, hi: bounds[i] }));
  const parts = await mapLimit(ranges, RANGES_IN_FLIGHT, (range) =>
    listRange(s3, bucket, prefix, range.lo, range.hi),
  );
  return parts.flat().sort((a, b) => byKey(a.key, b.key));
}

/**
 * Every `cut`th key of `keys` (sorted) as a range bound, mapped through `boundOf`: where keys
 * group (an endpoint's heartbeats), a bound after the whole group keeps a group in one range.
 */
export function rangeBounds(
  keys: readonly string[],
  boundOf: (key: string) => string = (key) => key,
  cut = LIST_PAGE_KEYS,
): string[] {
  const bounds: string[] = [];
  for (let i = cut - 1; i < keys.length - 1; i += cut) {
    const key = keys[i];
    if (key !== undefined) bounds.push(boundOf(key));
  }
  return bounds;
}

/** The keys in (lo, hi], page after page; a range stops at the first page that reaches `hi`. */
async function listRange(
  s3: S3Client,
  bucket: string,
  prefix: string,
  lo: string | undefined,
  hi: string | undefined,
): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : lo === undefined ? {} : { StartAfter: lo }),
      }),
    );
    let last: string | undefined;
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      if (!key) continue;
      last = key;
      if ((lo !== undefined && key <= lo) || (hi !== undefined && key > hi)) continue;
      out.push({
        key,
        etag: bareEtag(object.ETag),
        lastModified: object.LastModified?.getTime(),
      });
    }
    const reachedEnd = hi !== undefined && last !== undefined && last >= hi;
    if (!page.IsTruncated || !page.NextContinuationToken || reachedEnd) return out;
    token = page.NextContinuationToken;
  }
}

/** An ETag without its quotes (and weak marker), as listings and GETs may spell it apart. */
export function bareEtag(etag: string | undefined): string {
  return (etag ?? "").replace(/^W\//, "").replaceAll('"', "");
}

/** S3's order: by the key's bytes (for ASCII keys, JavaScript's own string order). */
function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
