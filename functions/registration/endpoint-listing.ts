import { registryKeys } from "#core/names.ts";
import {
  type ControlData,
  EndpointRecord,
  type EndpointView,
  type HeartbeatRecord,
  StoredHeartbeat,
} from "#core/protocol/index.ts";
import { mapLimit } from "./concurrency.ts";
import type { RegistrationDeps, ServiceContext } from "./context.ts";
import { type IndexedRecord, RecordIndex } from "./registry-index.ts";
import { endpointView, HEARTBEAT_RETENTION_MS } from "./status.ts";

// Endpoints with their agents' status, read as listings: every endpoint record in one listing
// of registry/endpoints/ and every heartbeat in one listing of registry/heartbeats/ (1,000 keys
// a page, pages in parallel), each record read only when its ETag changed (registry-index.ts).
// A heartbeat's time is its object's LastModified, so an idle agent's record does not change.

/**
 * Bytes of endpoint views per listEndpoints page: Lambda answers at most 6 MB, and a function
 * URL's answer carries the JSON once more as an escaped string (about a tenth more).
 */
const PAGE_BYTES = 4_000_000;
/** Deletes in flight when pruning old heartbeats. */
const PRUNE_CONCURRENCY = 16;

/** The indexes a service's actions share: one per container, so a warm Lambda keeps them. */
export function createEndpointIndexes(
  deps: RegistrationDeps,
  now: () => number,
): ServiceContext["indexes"] {
  const { s3, bucket } = deps;
  return {
    endpoints: new RecordIndex({
      s3,
      bucket,
      prefix: registryKeys.endpointsPrefix,
      schema: EndpointRecord,
      snapshotKey: registryKeys.index("endpoints"),
      now,
    }),
    heartbeats: new RecordIndex({
      s3,
      bucket,
      prefix: registryKeys.heartbeatsRoot,
      schema: StoredHeartbeat,
      snapshotKey: registryKeys.index("heartbeats"),
      boundOf: afterEndpointHeartbeats,
      now,
    }),
  };
}

/**
 * A key after every heartbeat key of the endpoint that `key` (a heartbeat key) belongs to:
 * agent ids are safe names, whose characters all sort before "~".
 */
function afterEndpointHeartbeats(key: string): string {
  return `${key.slice(0, key.lastIndexOf("/") + 1)}~`;
}

/**
 * One page of endpoints after the id `after`, in id order and at most PAGE_BYTES of views,
 * sorted by name (then id) within the page; `next` is the page's last id when more follow.
 */
export async function listEndpointPage(
  ctx: ServiceContext,
  after: string | undefined,
): Promise<ControlData<"listEndpoints">> {
  const now = ctx.now();
  const prefix = registryKeys.endpointsPrefix;
  const from = after === undefined ? undefined : registryKeys.endpoint(after);
  const beatsFrom =
    after === undefined ? undefined : afterEndpointHeartbeats(registryKeys.heartbeat(after, "-"));
  const [endpoints, beats] = await Promise.all([
    ctx.indexes.endpoints.read(prefix, from),
    ctx.indexes.heartbeats.read(registryKeys.heartbeatsRoot, beatsFrom),
  ]);
  const heartbeats = await timedHeartbeats(ctx, beats, now);
  const limit = ctx.deps.listPageBytes ?? PAGE_BYTES;
  const views: EndpointView[] = [];
  let bytes = 0;
  let lastId: string | undefined;
  let next: string | undefined;
  for (const { key, record } of endpoints) {
    const view = endpointView(record, heartbeats.get(record.endpointId) ?? [], now);
    const size = Buffer.byteLength(JSON.stringify(view));
    if (views.length > 0 && bytes + size > limit) {
      next = lastId;
      break;
    }
    views.push(view);
    bytes += size;
    // The cursor is the key's id, the order the listing is in.
    lastId = key.slice(prefix.length, -".json".length);
  }
  views.sort(
    (a, b) =>
      a.endpoint.name.localeCompare(b.endpoint.name) ||
      a.endpoint.endpointId.localeCompare(b.endpoint.endpointId),
  );
  return next === undefined ? { endpoints: views } : { endpoints: views, next };
}

/** One endpoint's heartbeats (one listing of its prefix), with their times. */
export async function endpointHeartbeats(
  ctx: ServiceContext,
  endpointId: string,
): Promise<HeartbeatRecord[]> {
  const beats = await ctx.indexes.heartbeats.read(registryKeys.heartbeatsPrefix(endpointId));
  return (await timedHeartbeats(ctx, beats, ctx.now())).get(endpointId) ?? [];
}

/**
 * Heartbeats by endpoint id, each at its time: the record's own `at` where it has one (records
 * written before), else when S3 stored it. Those past retention are deleted (best effort: a
 * failed delete only leaves the record for the next read) and left out.
 */
async function timedHeartbeats(
  ctx: ServiceContext,
  beats: readonly IndexedRecord<StoredHeartbeat>[],
  now: number,
): Promise<Map<string, HeartbeatRecord[]>> {
  const byEndpoint = new Map<string, HeartbeatRecord[]>();
  const old: string[] = [];
  for (const { key, lastModified, record } of beats) {
    const at = record.at ?? lastModified;
    if (at === undefined) continue;
    if (now - at > HEARTBEAT_RETENTION_MS) {
      old.push(key);
      continue;
    }
    const list = byEndpoint.get(record.endpointId) ?? [];
    list.push({ ...record, at });
    byEndpoint.set(record.endpointId, list);
  }
  await mapLimit(old, PRUNE_CONCURRENCY, async (key) => {
    await ctx.store.delete(key).catch(() => undefined);
    ctx.indexes.heartbeats.forget(key);
  });
  return byEndpoint;
}
