import { z } from "zod";
import { EpochMs, SafeName, Sha256, Uuid, Version } from "./common.ts";
import { GroupMembership, GroupRecord, MAX_GROUP_MEMBERS } from "./groups.ts";
import {
  EndpointRecord,
  EndpointStatus,
  FunctionRecord,
  FunctionSpec,
  HeartbeatRecord,
  ParkedResult,
  SessionRecord,
} from "./registry.ts";
import { ResultMessage } from "./result.ts";

/** Task ids per cancelTasks call, and per session per listCancellations answer (one S3 page). */
export const MAX_CANCELLATION_IDS = 1_000;
/** Sessions per listCancellations call: one S3 listing each, well inside a Lambda's time. */
export const MAX_CANCELLATION_SESSIONS = 100;

/** Where a session's cancellations are listed from: the key part after the session's prefix. */
export const CancellationCursor = z.string().regex(/^\d{13}(-[0-9a-f-]{36}\.json)?$/);

/** Requests to the registration Lambda, one schema per action. */
export const ControlRequest = z.discriminatedUnion("action", [
  z.object({
    v: Version,
    action: z.literal("registerEndpoint"),
    name: SafeName,
    /**
     * Re-registering an existing id is idempotent (it recreates a missing queue). Without an
     * id, a name already registered returns that endpoint (a site's set-up script may run
     * twice): names are unique per deployment.
     */
    endpointId: Uuid.optional(),
  }),
  z.object({ v: Version, action: z.literal("deregisterEndpoint"), endpointId: Uuid }),
  z.object({
    v: Version,
    action: z.literal("renameEndpoint"),
    endpointId: Uuid,
    /** Must not name another endpoint. */
    name: SafeName,
  }),
  /** The endpoint registered under a name. */
  z.object({ v: Version, action: z.literal("findEndpoint"), name: SafeName }),
  z.object({ v: Version, action: z.literal("describeEndpoint"), endpointId: Uuid }),
  z.object({
    v: Version,
    action: z.literal("listEndpoints"),
    /** The `next` of the previous page: this page starts after that endpoint id. */
    after: Uuid.optional(),
  }),
  z.object({
    v: Version,
    action: z.literal("heartbeat"),
    heartbeat: HeartbeatRecord.omit({ v: true, at: true }),
  }),
  z.object({
    v: Version,
    action: z.literal("registerFunction"),
    name: SafeName,
    sha256: Sha256,
    spec: FunctionSpec,
    description: z.string().max(1_000).optional(),
  }),
  z.object({
    v: Version,
    action: z.literal("getFunction"),
    name: SafeName,
    /** Without a hash, the most recently registered version. */
    sha256: Sha256.optional(),
  }),
  z.object({ v: Version, action: z.literal("listFunctions") }),
  z.object({ v: Version, action: z.literal("openSession"), sessionId: Uuid.optional() }),
  z.object({ v: Version, action: z.literal("closeSession"), sessionId: Uuid }),
  z.object({
    v: Version,
    action: z.literal("cancelTasks"),
    /** The session that submitted the tasks; recorded with each cancellation. */
    sessionId: Uuid,
    taskIds: z.array(Uuid).min(1).max(MAX_CANCELLATION_IDS),
  }),
  z.object({
    v: Version,
    action: z.literal("listCancellations"),
    /**
     * Sessions whose tasks an agent holds, each with where its last answer ended: agents learn
     * every cancellation of a session since then in one request, not one request per task.
     * Without `after`, from the session's first. Empty is allowed (so is the answer).
     */
    sessions: z
      .array(z.object({ sessionId: Uuid, after: CancellationCursor.optional() }))
      .max(MAX_CANCELLATION_SESSIONS),
  }),
  z.object({
    v: Version,
    action: z.literal("parkResult"),
    /** A result whose reply queue refused it; kept for its session's client. */
    result: ResultMessage,
    reason: z.string().max(2_000),
  }),
  /** Create a group (its queue too); creating it again adds `members` (owner only). */
  z.object({
    v: Version,
    action: z.literal("createGroup"),
    name: SafeName,
    members: z.array(Uuid).max(MAX_GROUP_MEMBERS).default([]),
  }),
  z.object({ v: Version, action: z.literal("addGroupMember"), name: SafeName, endpointId: Uuid }),
  z.object({
    v: Version,
    action: z.literal("removeGroupMember"),
    name: SafeName,
    endpointId: Uuid,
  }),
  /** By name, or by the id tasks to the group carry. */
  z.object({
    v: Version,
    action: z.literal("describeGroup"),
    name: SafeName.optional(),
    groupId: Uuid.optional(),
  }),
  z.object({ v: Version, action: z.literal("listGroups") }),
  z.object({ v: Version, action: z.literal("deleteGroup"), name: SafeName }),
  z.object({
    v: Version,
    action: z.literal("listParkedResults"),
    sessionId: Uuid,
    /** The `next` of the previous page. */
    after: z.string().max(200).optional(),
  }),
]);
export type ControlRequest = z.infer<typeof ControlRequest>;
export type ControlAction = ControlRequest["action"];

export const EndpointView = z.object({
  endpoint: EndpointRecord,
  status: EndpointStatus,
  lastHeartbeat: EpochMs.optional(),
  agents: z.array(HeartbeatRecord),
});
export type EndpointView = z.infer<typeof EndpointView>;

/** The `data` of a successful response, per action. */
export const ControlResponseData = {
  registerEndpoint: z.object({ endpoint: EndpointRecord }),
  deregisterEndpoint: z.object({ endpointId: Uuid }),
  renameEndpoint: z.object({ endpoint: EndpointRecord }),
  findEndpoint: EndpointView,
  describeEndpoint: EndpointView,
  /**
   * One page (bounded by bytes, inside Lambda's 6 MB response) of endpoints in id order, each
   * page sorted by name, then id; `next` when there are more. The SDK's listAllEndpoints
   * follows the pages and sorts them all.
   */
  listEndpoints: z.object({ endpoints: z.array(EndpointView), next: Uuid.optional() }),
  /**
   * `groups`: the groups the beating agent's endpoint serves (it polls their queues too);
   * absent when there are none.
   */
  heartbeat: z.object({ at: EpochMs, groups: z.array(GroupMembership).optional() }),
  registerFunction: z.object({ function: FunctionRecord }),
  getFunction: z.object({ function: FunctionRecord }),
  listFunctions: z.object({ functions: z.array(FunctionRecord) }),
  openSession: z.object({ session: SessionRecord }),
  closeSession: z.object({ session: SessionRecord }),
  /** How many distinct tasks are now recorded as cancelled. */
  cancelTasks: z.object({ cancelled: z.number().int().nonnegative() }),
  /**
   * Per session asked, the tasks it cancelled after `after`, in the order recorded (a task
   * cancelled twice may appear twice), and the time of the last one. `next` is set when there
   * are more than one answer holds: ask again from it.
   */
  listCancellations: z.object({
    sessions: z.array(
      z.object({
        sessionId: Uuid,
        taskIds: z.array(Uuid).max(MAX_CANCELLATION_IDS),
        lastAtMs: EpochMs.optional(),
        next: CancellationCursor.optional(),
      }),
    ),
  }),
  /** `parked` is false when a result of that task was already parked (the first one stays). */
  parkResult: z.object({ parked: z.boolean() }),
  createGroup: z.object({ group: GroupRecord }),
  addGroupMember: z.object({ group: GroupRecord }),
  removeGroupMember: z.object({ group: GroupRecord }),
  describeGroup: z.object({ group: GroupRecord }),
  listGroups: z.object({ groups: z.array(GroupRecord) }),
  deleteGroup: z.object({ groupId: Uuid }),
  /** One page of a session's parked results (bounded by bytes); `next` when there are more. */
  listParkedResults: z.object({
    results: z.array(ParkedResult),
    next: z.string().optional(),
  }),
} as const satisfies Record<ControlAction, z.ZodType>;

export type ControlData<A extends ControlAction> = z.infer<(typeof ControlResponseData)[A]>;

export const ControlErrorBody = z.object({
  /** `Forbidden`: the caller does not own what it acts on. `Unavailable`: AWS said "not now" (throttled, a queue name in its 60 s reuse window): retry later. */
  type: z.enum(["BadRequest", "NotFound", "Forbidden", "Conflict", "Unavailable", "Internal"]),
  message: z.string(),
});
export type ControlErrorBody = z.infer<typeof ControlErrorBody>;

export const ControlResponse = z.union([
  z.object({ v: Version, ok: z.literal(true), data: z.unknown() }),
  z.object({ v: Version, ok: z.literal(false), error: ControlErrorBody }),
]);
export type ControlResponse = z.infer<typeof ControlResponse>;
