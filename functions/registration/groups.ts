import { NotFoundError, ProtocolError } from "#core/errors.ts";
import { newEndpointId } from "#core/ids.ts";
import { queueNames, registryKeys } from "#core/names.ts";
import { GroupRecord, MAX_GROUP_MEMBERS, PROTOCOL_VERSION } from "#core/protocol/index.ts";
import { type Caller, ownerOf, requireOwner } from "./caller.ts";
import { mapLimit } from "./concurrency.ts";
import type { ServiceContext } from "./context.ts";
import { taskQueueAttributes } from "./context.ts";
import { requireEndpointRecord } from "./endpoint-records.ts";
import { ConflictError } from "./errors.ts";
import { applyGroupPolicy } from "./group-policy.ts";
import {
  forgetMember,
  groupsServedBy,
  requireGroup,
  requireGroupById,
  saveGroup,
} from "./group-records.ts";
import { deleteQueue, ensureQueue } from "./queues.ts";
import type { ActionHandler, ActionTable } from "./service-types.ts";

// Endpoint groups: one task queue per group, consumed by every member's agents (competing
// consumers). No router sits on the task path: a router Lambda would cost an invoke and a
// second queue hop per task, while SQS's visibility timeout already hands a dead member's
// in-flight tasks to the others. Only the group's owner changes it; only an endpoint's owner
// puts the endpoint in a group (its agents will consume the group's tasks).

type GroupActions =
  | "createGroup"
  | "addGroupMember"
  | "removeGroupMember"
  | "describeGroup"
  | "listGroups"
  | "deleteGroup";

/** Create a group and its queue; creating an existing group again adds members (owner only). */
export const createGroup: ActionHandler<"createGroup"> = async (ctx, { name, members }, caller) => {
  const existing = await ctx.store.get(registryKeys.group(name), GroupRecord);
  if (existing) {
    requireOwner(existing.owner, caller, `group ${name}`, "change it");
    return { group: await withMembers(ctx, existing, members, caller) };
  }
  const unique = [...new Set(members)];
  await mapLimit(unique, 8, (id) => requireUsableMember(ctx, id, caller));
  const groupId = newEndpointId();
  const queueUrl = await ensureQueue(
    ctx.deps.sqs,
    queueNames.tasks(ctx.deps.queuePrefix, groupId),
    taskQueueAttributes(ctx.deps),
    { "ferry:kind": "group-tasks", "ferry:group": name },
  );
  const group: GroupRecord = {
    v: PROTOCOL_VERSION,
    groupId,
    name,
    queueUrl,
    members: unique,
    createdAt: ctx.now(),
    ...ownerOf(caller),
  };
  // The queue's policy before the records: a member that hears of the group can consume it.
  await applyGroupPolicy(ctx.deps.sqs, group);
  await saveGroup(ctx.store, group);
  return { group };
};

export const addGroupMember: ActionHandler<"addGroupMember"> = async (
  ctx,
  { name, endpointId },
  caller,
) => {
  const group = await requireGroup(ctx.store, name);
  requireOwner(group.owner, caller, `group ${name}`, "add members");
  return { group: await withMembers(ctx, group, [endpointId], caller) };
};

/** The group's owner removes any member; an endpoint's owner may take its endpoint out. */
export const removeGroupMember: ActionHandler<"removeGroupMember"> = async (
  ctx,
  { name, endpointId },
  caller,
) => {
  const group = await requireGroup(ctx.store, name);
  if (!group.members.includes(endpointId)) return { group };
  if (!ownsGroup(group, caller)) {
    const endpoint = await requireEndpointRecord(ctx.store, endpointId).catch(() => undefined);
    requireOwner(endpoint?.owner ?? group.owner, caller, `group ${name}`, "remove members");
  }
  return { group: await withoutMember(ctx, group, endpointId) };
};

export const describeGroup: ActionHandler<"describeGroup"> = async (ctx, { name, groupId }) => {
  if (name !== undefined) return { group: await requireGroup(ctx.store, name) };
  if (groupId !== undefined) return { group: await requireGroupById(ctx.store, groupId) };
  throw new ProtocolError("describeGroup needs a name or a groupId");
};

export const listGroups: ActionHandler<"listGroups"> = async (ctx) => {
  const keys = await ctx.store.list(registryKeys.groupsPrefix);
  const groups = await ctx.store.getMany(keys, GroupRecord);
  return { groups: groups.sort((a, b) => a.name.localeCompare(b.name)) };
};

/** Delete a group: memberships, its queue (tasks still in it are lost: say so), records. */
export const deleteGroup: ActionHandler<"deleteGroup"> = async (ctx, { name }, caller) => {
  const group = await requireGroup(ctx.store, name);
  requireOwner(group.owner, caller, `group ${name}`, "delete it");
  await mapLimit(group.members, 16, (m) => forgetMember(ctx.store, m, group.groupId));
  await deleteQueue(ctx.deps.sqs, group.queueUrl);
  await ctx.store.delete(registryKeys.groupId(group.groupId));
  await ctx.store.delete(registryKeys.group(name));
  return { groupId: group.groupId };
};

/** The heartbeat, answered with the groups the beating endpoint serves. */
export function withGroupsAnswer(beat: ActionHandler<"heartbeat">): ActionHandler<"heartbeat"> {
  return async (ctx, input, caller) => {
    const answer = await beat(ctx, input, caller);
    const groups = await groupsServedBy(ctx, input.heartbeat.endpointId);
    // Absent means none, as from a control plane that predates groups.
    return groups.length > 0 ? { ...answer, groups } : answer;
  };
}

export const GROUP_ACTIONS: ActionTable<GroupActions> = {
  createGroup,
  addGroupMember,
  removeGroupMember,
  describeGroup,
  listGroups,
  deleteGroup,
};

async function withMembers(
  ctx: ServiceContext,
  group: GroupRecord,
  add: readonly string[],
  caller: Caller,
): Promise<GroupRecord> {
  const fresh = [...new Set(add)].filter((id) => !group.members.includes(id));
  if (fresh.length === 0) return group;
  if (group.members.length + fresh.length > MAX_GROUP_MEMBERS) {
    throw new ConflictError(
      `group ${group.name} would have more than ${MAX_GROUP_MEMBERS} members`,
      {
        hint: "make another group",
      },
    );
  }
  await mapLimit(fresh, 8, (id) => requireUsableMember(ctx, id, caller));
  const changed: GroupRecord = { ...group, members: [...group.members, ...fresh] };
  await applyGroupPolicy(ctx.deps.sqs, changed);
  await saveGroup(ctx.store, changed);
  return changed;
}

/** Take one member out: the record (its agents stop at their next heartbeat), then its access. */
async function withoutMember(
  ctx: ServiceContext,
  group: GroupRecord,
  endpointId: string,
): Promise<GroupRecord> {
  const changed: GroupRecord = { ...group, members: group.members.filter((m) => m !== endpointId) };
  await saveGroup(ctx.store, changed);
  await applyGroupPolicy(ctx.deps.sqs, changed);
  await forgetMember(ctx.store, endpointId, group.groupId);
  return changed;
}

/**
 * Take a deregistered endpoint out of every group it serves (deregisterEndpoint calls this
 * before it deletes the record, so that a retry finds the memberships again).
 */
export async function leaveAllGroups(ctx: ServiceContext, endpointId: string): Promise<void> {
  const served = await groupsServedBy(ctx, endpointId);
  await mapLimit(served, 4, async ({ groupId }) => {
    const group = await requireGroupById(ctx.store, groupId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined; // a group deleted meanwhile
      throw error;
    });
    if (group?.members.includes(endpointId)) await withoutMember(ctx, group, endpointId);
    else await forgetMember(ctx.store, endpointId, groupId);
  });
}

/** A member must be registered, and the caller must own it (or be an operator). */
async function requireUsableMember(ctx: ServiceContext, endpointId: string, caller: Caller) {
  const endpoint = await requireEndpointRecord(ctx.store, endpointId);
  requireOwner(
    endpoint.owner,
    caller,
    `endpoint ${endpoint.name} (${endpointId})`,
    "put it in a group",
  );
}

function ownsGroup(group: GroupRecord, caller: Caller): boolean {
  return caller.kind === "operator" || group.owner === undefined || group.owner === caller.arn;
}
