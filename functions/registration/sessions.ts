import { isDeepStrictEqual } from "node:util";
import { NotFoundError } from "#core/errors.ts";
import { newSessionId } from "#core/ids.ts";
import { queueNames, registryKeys } from "#core/names.ts";
import { PROTOCOL_VERSION, SessionRecord } from "#core/protocol/index.ts";
import { type Caller, ownerOf, requireOwner } from "./caller.ts";
import {
  listCancellations as listSessionCancellations,
  recordCancellations,
} from "./cancellations.ts";
import { RESULT_QUEUE_ATTRIBUTES, type ServiceContext } from "./context.ts";
import { ConflictError } from "./errors.ts";
import { listParked, parkResult as parkResultRecord } from "./parked.ts";
import { deleteQueue, ensureQueue } from "./queues.ts";
import type { ActionHandler, ActionTable } from "./service-types.ts";

// Sessions: their result queues, their tasks' cancellations and their parked results. One
// handler per action.

type SessionActions =
  | "openSession"
  | "closeSession"
  | "cancelTasks"
  | "listCancellations"
  | "parkResult"
  | "listParkedResults";

/** Open a session (its result queue), or reattach to an open one the caller owns. */
export const openSession: ActionHandler<"openSession"> = async (ctx, { sessionId }, caller) => {
  const { store, now, deps } = ctx;
  const id = sessionId ?? newSessionId();
  const key = registryKeys.session(id);
  const existing = await store.get(key, SessionRecord);
  if (existing) requireOwner(existing.owner, caller, `session ${id}`, "reattach to it");
  if (existing?.closedAt !== undefined) {
    throw new ConflictError(`session ${id} is closed`, {
      context: { sessionId: id },
      hint: "open a new session",
    });
  }
  // The owner tag lets IAM keep every other principal out of this queue (ABAC).
  const owner: Record<string, string> =
    caller.kind === "principal" ? { "ferry:owner": caller.userId } : {};
  const resultQueueUrl = await ensureQueue(
    deps.sqs,
    queueNames.results(deps.queuePrefix, id),
    RESULT_QUEUE_ATTRIBUTES,
    { "ferry:kind": "results", "ferry:session-id": id, ...owner },
  );
  const session: SessionRecord = {
    v: PROTOCOL_VERSION,
    sessionId: id,
    resultQueueUrl,
    openedAt: existing?.openedAt ?? now(),
    ...(existing ? (existing.owner ? { owner: existing.owner } : {}) : ownerOf(caller)),
    ...ownerIdOf(existing, caller),
  };
  if (!isDeepStrictEqual(existing, session)) await store.put(key, session);
  return { session };
};

/** Close a session: its record says so, then its result queue goes. */
export const closeSession: ActionHandler<"closeSession"> = async (ctx, { sessionId }, caller) => {
  const existing = await ownSession(ctx, sessionId, caller, "close it");
  // Closing twice keeps the first closing time. The record first: from then on an agent
  // whose result finds no queue parks it for a session that says it is closed.
  const session: SessionRecord = { ...existing, closedAt: existing.closedAt ?? ctx.now() };
  if (existing.closedAt === undefined)
    await ctx.store.put(registryKeys.session(sessionId), session);
  await deleteQueue(ctx.deps.sqs, existing.resultQueueUrl);
  return { session };
};

/**
 * Record cancellations of a session's tasks. A closed session's tasks may still be cancelled
 * (they would still burn a site's time). Records are kept per session: agents honour one only
 * for the session the task names.
 */
export const cancelTasks: ActionHandler<"cancelTasks"> = async (
  ctx,
  { sessionId, taskIds },
  caller,
) => {
  await ownSession(ctx, sessionId, caller, "cancel its tasks");
  return { cancelled: await recordCancellations(ctx.store, sessionId, taskIds, ctx.now()) };
};

/** What these sessions cancelled since each one's cursor (asked by agents). */
export const listCancellations: ActionHandler<"listCancellations"> = async (ctx, { sessions }) => ({
  sessions: await listSessionCancellations(ctx.store, sessions),
});

/**
 * Park a result whose session's queue is gone. Kept whether or not the session is known: a
 * result is never the thing that is dropped.
 */
export const parkResult: ActionHandler<"parkResult"> = async (ctx, { result, reason }, caller) => {
  const by = caller.kind === "principal" ? caller.arn : undefined;
  return { parked: await parkResultRecord(ctx.store, result, reason, ctx.now(), by) };
};

/** A session's parked results, a page after `after`. */
export const listParkedResults: ActionHandler<"listParkedResults"> = async (
  ctx,
  { sessionId, after },
  caller,
) => {
  await ownSession(ctx, sessionId, caller, "read its results");
  return listParked(ctx.store, sessionId, after);
};

/** The session actions' routing table. */
export const SESSION_ACTIONS: ActionTable<SessionActions> = {
  openSession,
  closeSession,
  cancelTasks,
  listCancellations,
  parkResult,
  listParkedResults,
};

async function requireSession(ctx: ServiceContext, sessionId: string): Promise<SessionRecord> {
  const existing = await ctx.store.get(registryKeys.session(sessionId), SessionRecord);
  if (!existing) {
    throw new NotFoundError(`session ${sessionId} does not exist`, { context: { sessionId } });
  }
  return existing;
}

/** The session, if the caller owns it; a closed one included (its tasks may still run). */
async function ownSession(
  ctx: ServiceContext,
  sessionId: string,
  caller: Caller,
  action: string,
): Promise<SessionRecord> {
  const session = await requireSession(ctx, sessionId);
  requireOwner(session.owner, caller, `session ${sessionId}`, action);
  return session;
}

/** A session keeps the user id it was opened with; a new one takes its opener's. */
function ownerIdOf(existing: SessionRecord | undefined, caller: Caller): { ownerId?: string } {
  if (existing) return existing.ownerId === undefined ? {} : { ownerId: existing.ownerId };
  return caller.kind === "principal" ? { ownerId: caller.userId } : {};
}
