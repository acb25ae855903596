import { NotFoundError } from "#core/errors.ts";
import { registryKeys } from "#core/names.ts";
import { EndpointNameRecord, EndpointRecord, PROTOCOL_VERSION } from "#core/protocol/index.ts";
import type { ServiceContext } from "./context.ts";
import { endpointHeartbeats } from "./endpoint-listing.ts";
import { ConflictError } from "./errors.ts";
import type { RecordStore } from "./registry-store.ts";
import { endpointView } from "./status.ts";

// The endpoint records behind the endpoint actions: names, lookups and heartbeats.

/** An endpoint with its agents' status (one listing of its heartbeats). */
export async function viewOf(ctx: ServiceContext, endpoint: EndpointRecord) {
  const heartbeats = await endpointHeartbeats(ctx, endpoint.endpointId);
  return endpointView(endpoint, heartbeats, ctx.now());
}

/**
 * The endpoint a name stands for: through the name record, or, for endpoints registered
 * before names had records, by looking through every endpoint (then the record is written).
 * That look is a listing of the endpoint index: ListObjectsV2 pages, and GETs only of records
 * this container has not read yet. Several old endpoints under one name: the most recently
 * registered one.
 */
export async function endpointNamed(
  ctx: ServiceContext,
  name: string,
): Promise<EndpointRecord | undefined> {
  const { store } = ctx;
  const index = await store.get(registryKeys.endpointName(name), EndpointNameRecord);
  if (index) {
    const record = await store.get(registryKeys.endpoint(index.endpointId), EndpointRecord);
    if (record?.name === name) return record;
  }
  const all = (await ctx.indexes.endpoints.read()).map((r) => r.record);
  const same = all.filter((e) => e.name === name).sort((a, b) => b.registeredAt - a.registeredAt);
  const found = same[0];
  if (found) await claimName(store, name, found.endpointId);
  return found;
}

/** Point the name at the endpoint; a name standing for another live endpoint is refused. */
export async function claimName(
  store: RecordStore,
  name: string,
  endpointId: string,
): Promise<void> {
  const key = registryKeys.endpointName(name);
  const index = await store.get(key, EndpointNameRecord);
  if (index && index.endpointId !== endpointId) {
    const other = await store.get(registryKeys.endpoint(index.endpointId), EndpointRecord);
    if (other?.name === name) {
      throw new ConflictError(`the name ${name} is taken by endpoint ${index.endpointId}`, {
        hint: "choose another name, or rename or deregister that endpoint first",
      });
    }
  }
  if (index?.endpointId === endpointId) return;
  const record: EndpointNameRecord = { v: PROTOCOL_VERSION, name, endpointId };
  await store.put(key, record);
}

export async function releaseName(
  store: RecordStore,
  name: string,
  endpointId: string,
): Promise<void> {
  const key = registryKeys.endpointName(name);
  const index = await store.get(key, EndpointNameRecord);
  if (index?.endpointId === endpointId) await store.delete(key);
}

export async function requireEndpointRecord(store: RecordStore, endpointId: string) {
  const record = await store.get(registryKeys.endpoint(endpointId), EndpointRecord);
  if (!record) {
    throw new NotFoundError(`endpoint ${endpointId} is not registered`, {
      context: { endpointId },
      hint: "register it with `ferry endpoint register <name>`",
    });
  }
  return record;
}
