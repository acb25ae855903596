import { NotFoundError } from "#core/errors.ts";
import { registryKeys } from "#core/names.ts";
import {
  GroupIdRecord,
  GroupMemberRecord,
  type GroupMembership,
  GroupRecord,
  PROTOCOL_VERSION,
} from "#core/protocol/index.ts";
import { mapLimit } from "./concurrency.ts";
import type { ServiceContext } from "./context.ts";
import type { RecordStore } from "./registry-store.ts";

// The records behind the group actions: the group by name, its id index, and one membership
// record per member, which that member's heartbeats list.

/** The group named `name`. @throws NotFoundError when there is none */
export async function requireGroup(store: RecordStore, name: string): Promise<GroupRecord> {
  const group = await store.get(registryKeys.group(name), GroupRecord);
  if (!group) {
    throw new NotFoundError(`no group named ${name}`, {
      hint: "see `ferry group list`, or create it with `ferry group create <name> [endpoints...]`",
    });
  }
  return group;
}

/** The group tasks carrying `groupId` are addressed to. @throws NotFoundError */
export async function requireGroupById(store: RecordStore, groupId: string): Promise<GroupRecord> {
  const index = await store.get(registryKeys.groupId(groupId), GroupIdRecord);
  const group = index ? await store.get(registryKeys.group(index.name), GroupRecord) : undefined;
  if (!group || group.groupId !== groupId) {
    throw new NotFoundError(`no group with id ${groupId}`, { hint: "see `ferry group list`" });
  }
  return group;
}

/**
 * Write the group and its members' membership records. Memberships first: an agent that hears
 * of a group early polls an empty queue; one that heard late would leave tasks waiting.
 */
export async function saveGroup(store: RecordStore, group: GroupRecord): Promise<void> {
  const member: Omit<GroupMemberRecord, "members"> = {
    v: PROTOCOL_VERSION,
    groupId: group.groupId,
    name: group.name,
    queueUrl: group.queueUrl,
  };
  const members = Math.max(1, group.members.length);
  await mapLimit(group.members, 16, (endpointId) =>
    store.put(registryKeys.groupMember(endpointId, group.groupId), { ...member, members }),
  );
  const index: GroupIdRecord = { v: PROTOCOL_VERSION, groupId: group.groupId, name: group.name };
  await store.put(registryKeys.groupId(group.groupId), index);
  await store.put(registryKeys.group(group.name), group);
}

/** Remove one endpoint's membership record of a group (it stops polling the group's queue). */
export async function forgetMember(
  store: RecordStore,
  endpointId: string,
  groupId: string,
): Promise<void> {
  await store.delete(registryKeys.groupMember(endpointId, groupId));
}

/**
 * The groups an endpoint serves, for its heartbeat answer: one listing, then one read per group
 * (an endpoint is in few groups).
 */
export async function groupsServedBy(
  ctx: ServiceContext,
  endpointId: string,
): Promise<GroupMembership[]> {
  const keys = await ctx.store.list(registryKeys.groupMembersPrefix(endpointId));
  if (keys.length === 0) return [];
  const records = await ctx.store.getMany(keys, GroupMemberRecord);
  return records.map(({ v: _v, ...membership }) => membership);
}
