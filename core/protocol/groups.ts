import { z } from "zod";
import { EpochMs, SafeName, Uuid, Version } from "./common.ts";

/** Members per group, most: a record stays small and one heartbeat answer names them all. */
export const MAX_GROUP_MEMBERS = 100;

/**
 * An endpoint group (`registry/groups/<name>.json`): one task queue that every member's agents
 * consume as competing consumers, beside their own queue. A task addressed to the group carries
 * the group's id as its `endpointId`; whichever member has a free slot receives it, and a
 * member that dies leaves its in-flight messages to reappear for the others (visibility
 * timeout). Names are unique per deployment, in their own namespace (`group:<name>`).
 */
export const GroupRecord = z.object({
  v: Version,
  groupId: Uuid,
  name: SafeName,
  queueUrl: z.string().min(1),
  /** Member endpoint ids, in the order they were added. */
  members: z.array(Uuid).max(MAX_GROUP_MEMBERS),
  createdAt: EpochMs,
  /** The IAM principal that created it: only it may change or delete it. */
  owner: z.string().optional(),
});
export type GroupRecord = z.infer<typeof GroupRecord>;

/** A group's id -> its name (`registry/group-ids/<groupId>.json`): found by id in one read. */
export const GroupIdRecord = z.object({ v: Version, groupId: Uuid, name: SafeName });
export type GroupIdRecord = z.infer<typeof GroupIdRecord>;

/**
 * A group one endpoint serves, as its agents learn it from heartbeat answers
 * (`registry/group-members/<endpointId>/<groupId>.json`). `members` lets an agent that may not
 * run a task tell whether every member has passed it on.
 */
export const GroupMembership = z.object({
  groupId: Uuid,
  name: SafeName,
  queueUrl: z.string().min(1),
  members: z.number().int().min(1).max(MAX_GROUP_MEMBERS),
});
export type GroupMembership = z.infer<typeof GroupMembership>;

/** The record behind a membership, as stored. */
export const GroupMemberRecord = GroupMembership.extend({ v: Version });
export type GroupMemberRecord = z.infer<typeof GroupMemberRecord>;

/** The prefix that addresses a group wherever an endpoint is accepted: `group:qc`. */
export const GROUP_ADDRESS_PREFIX = "group:";
