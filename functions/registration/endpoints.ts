import { isDeepStrictEqual } from "node:util";
import { NotFoundError } from "#core/errors.ts";
import { newEndpointId } from "#core/ids.ts";
import { queueNames, registryKeys } from "#core/names.ts";
import {
  EndpointNameRecord,
  EndpointRecord,
  HeartbeatRecord,
  PROTOCOL_VERSION,
} from "#core/protocol/index.ts";
import { type Caller, ownerOf, requireOwner } from "./caller.ts";
import { mapLimit } from "./concurrency.ts";
import { type ServiceContext, taskQueueAttributes } from "./context.ts";
import { ConflictError } from "./errors.ts";
import { deleteQueue, ensureQueue } from "./queues.ts";
import type { RecordStore } from "./registry-store.ts";
import type { ActionHandlers } from "./service-types.ts";
import { endpointView, HEARTBEAT_RETENTION_MS } from "./status.ts";

type EndpointActions =
  | "registerEndpoint"
  | "deregisterEndpoint"
  | "renameEndpoint"
  | "findEndpoint"
  | "describeEndpoint"
  | "listEndpoints"
  | "heartbeat";

/** Endpoints: their records, task queues and agents' heartbeats. */
export function endpointHandlers(ctx: ServiceContext): ActionHandlers<EndpointActions> {
  const { store, now, deps } = ctx;
  const requireEndpoint = (endpointId: string) => requireEndpointRecord(store, endpointId);
  const viewOf = async (endpoint: EndpointRecord) => {
    const at = now();
    const heartbeats = await readHeartbeats(store, endpoint.endpointId);
    await pruneHeartbeats(store, heartbeats, at);
    return endpointView(endpoint, heartbeats, at);
  };

  return {
    async registerEndpoint({ name, endpointId }, caller) {
      // Names are unique: registering a taken name again returns its endpoint.
      const named = endpointId === undefined ? await endpointNamed(store, name) : undefined;
      const id = endpointId ?? named?.endpointId ?? newEndpointId();
      const key = registryKeys.endpoint(id);
      const existing = await store.get(key, EndpointRecord);
      if (existing) requireOwner(existing.owner, caller, `endpoint ${id}`, "re-register it");
      if (existing && existing.name !== name) {
        throw new ConflictError(`endpoint ${id} is registered as "${existing.name}"`, {
          context: { endpointId: id },
          hint: `use the name "${existing.name}", or deregister it first`,
        });
      }
      // Before the queue: a name taken by another endpoint creates nothing.
      await claimName(store, name, id);
      // Also on re-registration: it recreates a queue that was deleted by hand.
      const queueUrl = await ensureQueue(
        deps.sqs,
        queueNames.tasks(deps.queuePrefix, id),
        taskQueueAttributes(deps),
        { "ferry:kind": "tasks", "ferry:endpoint-id": id },
      );
      const endpoint: EndpointRecord = {
        v: PROTOCOL_VERSION,
        endpointId: id,
        name,
        queueUrl,
        registeredAt: existing?.registeredAt ?? now(),
        ...(existing ? (existing.owner ? { owner: existing.owner } : {}) : ownerOf(caller)),
      };
      if (!isDeepStrictEqual(existing, endpoint)) await store.put(key, endpoint);
      return { endpoint };
    },

    async renameEndpoint({ endpointId, name }, caller) {
      const endpoint = await requireEndpoint(endpointId);
      requireOwner(
        endpoint.owner,
        caller,
        `endpoint ${endpoint.name} (${endpointId})`,
        "rename it",
      );
      if (endpoint.name === name) return { endpoint };
      await claimName(store, name, endpointId);
      const renamed: EndpointRecord = { ...endpoint, name };
      await store.put(registryKeys.endpoint(endpointId), renamed);
      await releaseName(store, endpoint.name, endpointId);
      return { endpoint: renamed };
    },

    async findEndpoint({ name }) {
      const named = await endpointNamed(store, name);
      if (!named) {
        throw new NotFoundError(`no endpoint named ${name}`, {
          hint: "see `ferry endpoint list`, or register one with `ferry endpoint register <name>`",
        });
      }
      return viewOf(named);
    },

    async deregisterEndpoint({ endpointId }, caller) {
      const endpoint = await requireEndpoint(endpointId);
      requireOwner(
        endpoint.owner,
        caller,
        `endpoint ${endpoint.name} (${endpointId})`,
        "deregister it",
      );
      // The record goes last, so a retry after a partial failure still finds what to delete.
      const heartbeatKeys = await store.list(registryKeys.heartbeatsPrefix(endpointId));
      await mapLimit(heartbeatKeys, 16, (key) => store.delete(key));
      await deleteQueue(deps.sqs, endpoint.queueUrl);
      await releaseName(store, endpoint.name, endpointId);
      await store.delete(registryKeys.endpoint(endpointId));
      return { endpointId };
    },

    async describeEndpoint({ endpointId }) {
      return viewOf(await requireEndpoint(endpointId));
    },

    async listEndpoints() {
      const keys = await store.list(registryKeys.endpointsPrefix);
      const endpoints = await store.getMany(keys, EndpointRecord);
      const views = await mapLimit(endpoints, 8, viewOf);
      views.sort(
        (a, b) =>
          a.endpoint.name.localeCompare(b.endpoint.name) ||
          a.endpoint.endpointId.localeCompare(b.endpoint.endpointId),
      );
      return { endpoints: views };
    },

    // Any principal may beat: agents run under their own roles, not their endpoint's owner's.
    async heartbeat({ heartbeat }, _caller: Caller) {
      await requireEndpoint(heartbeat.endpointId);
      const at = now();
      const record: HeartbeatRecord = { ...heartbeat, v: PROTOCOL_VERSION, at };
      await store.put(registryKeys.heartbeat(heartbeat.endpointId, heartbeat.agentId), record);
      return { at };
    },
  };
}

/**
 * The endpoint a name stands for: through the name record, or, for endpoints registered
 * before names had records, by looking through every endpoint (then the record is written).
 * Several old endpoints under one name: the most recently registered one.
 */
async function endpointNamed(
  store: RecordStore,
  name: string,
): Promise<EndpointRecord | undefined> {
  const index = await store.get(registryKeys.endpointName(name), EndpointNameRecord);
  if (index) {
    const record = await store.get(registryKeys.endpoint(index.endpointId), EndpointRecord);
    if (record?.name === name) return record;
  }
  const all = await store.getMany(await store.list(registryKeys.endpointsPrefix), EndpointRecord);
  const same = all.filter((e) => e.name === name).sort((a, b) => b.registeredAt - a.registeredAt);
  const found = same[0];
  if (found) await claimName(store, name, found.endpointId);
  return found;
}

/** Point the name at the endpoint; a name standing for another live endpoint is refused. */
async function claimName(store: RecordStore, name: string, endpointId: string): Promise<void> {
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

async function releaseName(store: RecordStore, name: string, endpointId: string): Promise<void> {
  const key = registryKeys.endpointName(name);
  const index = await store.get(key, EndpointNameRecord);
  if (index?.endpointId === endpointId) await store.delete(key);
}

async function requireEndpointRecord(store: RecordStore, endpointId: string) {
  const record = await store.get(registryKeys.endpoint(endpointId), EndpointRecord);
  if (!record) {
    throw new NotFoundError(`endpoint ${endpointId} is not registered`, {
      context: { endpointId },
      hint: "register it with `ferry endpoint register <name>`",
    });
  }
  return record;
}

async function readHeartbeats(store: RecordStore, endpointId: string) {
  const keys = await store.list(registryKeys.heartbeatsPrefix(endpointId));
  return store.getMany(keys, HeartbeatRecord);
}

/** Best effort: a failed prune only leaves an old record for the next read. */
async function pruneHeartbeats(store: RecordStore, heartbeats: HeartbeatRecord[], now: number) {
  const old = heartbeats.filter((h) => now - h.at > HEARTBEAT_RETENTION_MS);
  await Promise.allSettled(
    old.map((h) => store.delete(registryKeys.heartbeat(h.endpointId, h.agentId))),
  );
}
