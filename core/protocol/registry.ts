import { z } from "zod";
import { EpochMs, SafeName, Sha256, Uuid, Version } from "./common.ts";
import { ResultMessage } from "./result.ts";

export const EndpointRecord = z.object({
  v: Version,
  endpointId: Uuid,
  name: SafeName,
  queueUrl: z.string().min(1),
  registeredAt: EpochMs,
  /** The IAM principal that registered it: only it may deregister or re-register it. */
  owner: z.string().optional(),
});
export type EndpointRecord = z.infer<typeof EndpointRecord>;

/** The endpoint a name stands for (names are unique per deployment). */
export const EndpointNameRecord = z.object({
  v: Version,
  name: SafeName,
  endpointId: Uuid,
});
export type EndpointNameRecord = z.infer<typeof EndpointNameRecord>;

/** One per agent process; several agents may serve one endpoint. */
export const HeartbeatRecord = z.object({
  v: Version,
  endpointId: Uuid,
  agentId: SafeName,
  at: EpochMs,
  slots: z.object({ total: z.number().int().min(0), busy: z.number().int().min(0) }),
  runningTaskIds: z.array(Uuid).max(1_000),
  versions: z.object({ ferry: z.string(), node: z.string() }),
  host: z.string(),
  pid: z.number().int(),
  /** GPUs the agent's site config names (`gpuIds`); absent from agents before it was added. */
  gpus: z.number().int().min(0).max(1_024).optional(),
  /**
   * `draining`: the agent takes no more tasks (SIGTERM); `stopped`: its last word. An endpoint
   * whose agents all said so is offline at once, not 90 s later. Absent: running.
   */
  state: z.enum(["running", "draining", "stopped"]).optional(),
});
export type HeartbeatRecord = z.infer<typeof HeartbeatRecord>;

/**
 * A heartbeat as the registry keeps it (`registry/heartbeats/<endpointId>/<agentId>.json`):
 * without `at`. Its time is the object's LastModified, which a listing returns, so an agent whose
 * state has not changed rewrites the same bytes, its record keeps its ETag, and listEndpoints
 * need not read it again. Records written before carry `at`, which then counts.
 */
export const StoredHeartbeat = HeartbeatRecord.extend({ at: EpochMs.optional() });
export type StoredHeartbeat = z.infer<typeof StoredHeartbeat>;

/**
 * A cache of the records under one registry prefix (`registry/index/<name>.json`): each entry
 * is `[key after the prefix, ETag, record]`, the record as it was when the object had that ETag.
 * Only a cache: the control plane uses an entry only when a fresh listing shows the same ETag,
 * and parses each record with its own schema, so a stale or lost snapshot costs GETs, never
 * correctness. Concurrent writers may overwrite each other (the last one wins).
 */
export const RegistryIndexSnapshot = z.object({
  v: Version,
  prefix: z.string(),
  writtenAt: EpochMs,
  entries: z.array(z.tuple([z.string(), z.string(), z.unknown()])),
});
export type RegistryIndexSnapshot = z.infer<typeof RegistryIndexSnapshot>;

export const NodeFunctionSpec = z.object({
  kind: z.literal("node"),
  /** Key of the esbuild bundle in the store bucket (functions/<sha256>.mjs). */
  bundleKey: z.string().min(1),
});

export const ShellFunctionSpec = z.object({
  kind: z.literal("shell"),
  /** argv template run without a shell; JSON arguments arrive on stdin. */
  argv: z.array(z.string()).min(1),
});

export const FunctionSpec = z.discriminatedUnion("kind", [NodeFunctionSpec, ShellFunctionSpec]);
export type FunctionSpec = z.infer<typeof FunctionSpec>;

/** A registered function: its name, the sha256 of its code, and how an agent runs it. */
export const FunctionRecord = z.object({
  v: Version,
  name: SafeName,
  sha256: Sha256,
  spec: FunctionSpec,
  description: z.string().max(1_000).optional(),
  registeredAt: EpochMs,
  /** The IAM principal that registered this name: only it may register new code under it. */
  owner: z.string().optional(),
});
export type FunctionRecord = z.infer<typeof FunctionRecord>;

export const SessionRecord = z.object({
  v: Version,
  sessionId: Uuid,
  resultQueueUrl: z.string().min(1),
  openedAt: EpochMs,
  closedAt: EpochMs.optional(),
  /** The IAM principal that opened it: only it may reattach, close it or cancel its tasks. */
  owner: z.string().optional(),
  /**
   * The opener's IAM user id: its result queue is tagged with it, and its objects by reference
   * live under `tmp/<ownerId>/` and `store/<ownerId>/`, which IAM lets only it reach.
   */
  ownerId: z.string().max(256).optional(),
});
export type SessionRecord = z.infer<typeof SessionRecord>;

/**
 * A client asked to cancel a task. Agents look for it before starting a task and while it runs;
 * its presence is what counts, the fields say who asked and when.
 */
export const CancellationRecord = z.object({
  v: Version,
  taskId: Uuid,
  sessionId: Uuid,
  at: EpochMs,
});
export type CancellationRecord = z.infer<typeof CancellationRecord>;

/**
 * A result an agent could not put on its session's result queue (the queue was deleted, or kept
 * refusing it past AWS's consistency windows). The control plane keeps it for the session's
 * client: a reattaching Executor, `ferry results` and `ferry tasks` collect it from here.
 */
export const ParkedResult = z.object({
  v: Version,
  sessionId: Uuid,
  taskId: Uuid,
  /** Why the result is here and not on the queue, as the agent saw it. */
  reason: z.string().max(2_000),
  parkedAt: EpochMs,
  /** The IAM principal (an agent's) that parked it, when known. */
  parkedBy: z.string().optional(),
  result: ResultMessage,
});
export type ParkedResult = z.infer<typeof ParkedResult>;

export const EndpointStatus = z.enum(["online", "stale", "offline"]);
export type EndpointStatus = z.infer<typeof EndpointStatus>;
