import { isDeepStrictEqual } from "node:util";
import { NotFoundError } from "#core/errors.ts";
import { newEndpointId } from "#core/ids.ts";
import { queueNames, registryKeys } from "#core/names.ts";
import { EndpointRecord, PROTOCOL_VERSION, type StoredHeartbeat } from "#core/protocol/index.ts";
import { type Caller, ownerOf, requireOwner } from "./caller.ts";
import { mapLimit } from "./concurrency.ts";
import { taskQueueAttributes } from "./context.ts";
import { listEndpointPage } from "./endpoint-listing.ts";
import {
  claimName,
  endpointNamed,
  releaseName,
  requireEndpointRecord,
  viewOf,
} from "./endpoint-records.ts";
import { ConflictError } from "./errors.ts";
import { leaveAllGroups } from "./groups.ts";
import { deleteQueue, ensureQueue } from "./queues.ts";
import type { ActionHandler, ActionTable } from "./service-types.ts";

// Endpoints: their records, task queues and agents' heartbeats. One handler per action.

type EndpointActions =
  | "registerEndpoint"
  | "deregisterEndpoint"
  | "renameEndpoint"
  | "findEndpoint"
  | "describeEndpoint"
  | "listEndpoints"
  | "heartbeat";

/** Register an endpoint, or return the one already registered under its id or name. */
export const registerEndpoint: ActionHandler<"registerEndpoint"> = async (
  ctx,
  { name, endpointId },
  caller,
) => {
  const { store, now, deps } = ctx;
  // Names are unique: registering a taken name again returns its endpoint.
  const named = endpointId === undefined ? await endpointNamed(ctx, name) : undefined;
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
  if (!isDeepStrictEqual(existing, endpoint)) await ctx.indexes.endpoints.put(key, endpoint);
  return { endpoint };
};

/** Give an endpoint another (free) name; the old name is released after the record moves. */
export const renameEndpoint: ActionHandler<"renameEndpoint"> = async (
  ctx,
  { endpointId, name },
  caller,
) => {
  const { store } = ctx;
  const endpoint = await requireEndpointRecord(store, endpointId);
  requireOwner(endpoint.owner, caller, `endpoint ${endpoint.name} (${endpointId})`, "rename it");
  if (endpoint.name === name) return { endpoint };
  await claimName(store, name, endpointId);
  const renamed: EndpointRecord = { ...endpoint, name };
  await ctx.indexes.endpoints.put(registryKeys.endpoint(endpointId), renamed);
  await releaseName(store, endpoint.name, endpointId);
  return { endpoint: renamed };
};

/** The endpoint a name stands for, with its agents' status. */
export const findEndpoint: ActionHandler<"findEndpoint"> = async (ctx, { name }) => {
  const named = await endpointNamed(ctx, name);
  if (!named) {
    throw new NotFoundError(`no endpoint named ${name}`, {
      hint: "see `ferry endpoint list`, or register one with `ferry endpoint register <name>`",
    });
  }
  return viewOf(ctx, named);
};

/**
 * Remove an endpoint: its group memberships, its heartbeats, its task queue, its name and then
 * its record.
 */
export const deregisterEndpoint: ActionHandler<"deregisterEndpoint"> = async (
  ctx,
  { endpointId },
  caller,
) => {
  const { store, deps } = ctx;
  const endpoint = await requireEndpointRecord(store, endpointId);
  requireOwner(
    endpoint.owner,
    caller,
    `endpoint ${endpoint.name} (${endpointId})`,
    "deregister it",
  );
  // The record goes last, so a retry after a partial failure still finds what to delete.
  await leaveAllGroups(ctx, endpointId);
  const heartbeatKeys = await store.list(registryKeys.heartbeatsPrefix(endpointId));
  await mapLimit(heartbeatKeys, 16, async (key) => {
    await store.delete(key);
    ctx.indexes.heartbeats.forget(key);
  });
  await deleteQueue(deps.sqs, endpoint.queueUrl);
  await releaseName(store, endpoint.name, endpointId);
  await store.delete(registryKeys.endpoint(endpointId));
  ctx.indexes.endpoints.forget(registryKeys.endpoint(endpointId));
  return { endpointId };
};

/** One endpoint by id, with its agents' status. */
export const describeEndpoint: ActionHandler<"describeEndpoint"> = async (ctx, { endpointId }) =>
  viewOf(ctx, await requireEndpointRecord(ctx.store, endpointId));

/**
 * A page of every endpoint with its agents' status: two listings (records and heartbeats), not a
 * request per record (endpoint-listing.ts).
 */
export const listEndpoints: ActionHandler<"listEndpoints"> = (ctx, { after }) =>
  listEndpointPage(ctx, after);

/**
 * Record an agent's heartbeat. Any principal may beat: agents run under their own roles, not
 * their endpoint's owner's. The record has no time: S3's LastModified is its time, so an agent
 * whose state is unchanged writes the same bytes and listings need not read them again.
 */
export const heartbeat: ActionHandler<"heartbeat"> = async (
  ctx,
  { heartbeat },
  _caller: Caller,
) => {
  await requireEndpointRecord(ctx.store, heartbeat.endpointId);
  const at = ctx.now();
  const record: StoredHeartbeat = { ...heartbeat, v: PROTOCOL_VERSION };
  const key = registryKeys.heartbeat(heartbeat.endpointId, heartbeat.agentId);
  await ctx.indexes.heartbeats.put(key, record);
  return { at };
};

/** The endpoint actions' routing table. */
export const ENDPOINT_ACTIONS: ActionTable<EndpointActions> = {
  registerEndpoint,
  renameEndpoint,
  findEndpoint,
  deregisterEndpoint,
  describeEndpoint,
  listEndpoints,
  heartbeat,
};
