import { isDeepStrictEqual } from "node:util";
import { NotFoundError } from "#core/errors.ts";
import { newSessionId } from "#core/ids.ts";
import { queueNames, registryKeys } from "#core/names.ts";
import { PROTOCOL_VERSION, SessionRecord } from "#core/protocol/index.ts";
import { type Caller, ownerOf, requireOwner } from "./caller.ts";
import { findCancellations, recordCancellations } from "./cancellations.ts";
import { RESULT_QUEUE_ATTRIBUTES, type ServiceContext } from "./context.ts";
import { ConflictError } from "./errors.ts";
import { listParked, parkResult } from "./parked.ts";
import { deleteQueue, ensureQueue } from "./queues.ts";
import type { ActionHandlers } from "./service-types.ts";

type SessionActions =
  | "openSession"
  | "closeSession"
  | "cancelTasks"
  | "checkCancellations"
  | "parkResult"
  | "listParkedResults";

/** Sessions: their result queues, their tasks' cancellations and their parked results. */
export function sessionHandlers(ctx: ServiceContext): ActionHandlers<SessionActions> {
  const { store, now, deps } = ctx;
  const requireSession = async (sessionId: string) => {
    const existing = await store.get(registryKeys.session(sessionId), SessionRecord);
    if (!existing) {
      throw new NotFoundError(`session ${sessionId} does not exist`, { context: { sessionId } });
    }
    return existing;
  };
  /** The session, if the caller owns it; a closed one included (its tasks may still run). */
  const ownSession = async (sessionId: string, caller: Caller, action: string) => {
    const session = await requireSession(sessionId);
    requireOwner(session.owner, caller, `session ${sessionId}`, action);
    return session;
  };

  return {
    async openSession({ sessionId }, caller) {
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
    },

    async closeSession({ sessionId }, caller) {
      const existing = await ownSession(sessionId, caller, "close it");
      // Closing twice keeps the first closing time. The record first: from then on an agent
      // whose result finds no queue parks it for a session that says it is closed.
      const session: SessionRecord = { ...existing, closedAt: existing.closedAt ?? now() };
      if (existing.closedAt === undefined)
        await store.put(registryKeys.session(sessionId), session);
      await deleteQueue(deps.sqs, existing.resultQueueUrl);
      return { session };
    },

    // A closed session's tasks may still be cancelled (they would still burn a site's time).
    // Records are kept per session: agents honour one only for the session the task names.
    async cancelTasks({ sessionId, taskIds }, caller) {
      await ownSession(sessionId, caller, "cancel its tasks");
      return { cancelled: await recordCancellations(store, sessionId, taskIds, now()) };
    },

    async checkCancellations({ tasks }) {
      return { cancelled: await findCancellations(store, tasks) };
    },

    // Kept whether or not the session is known: a result is never the thing that is dropped.
    async parkResult({ result, reason }, caller) {
      const by = caller.kind === "principal" ? caller.arn : undefined;
      return { parked: await parkResult(store, result, reason, now(), by) };
    },

    async listParkedResults({ sessionId, after }, caller) {
      await ownSession(sessionId, caller, "read its results");
      return listParked(store, sessionId, after);
    },
  };
}

/** A session keeps the user id it was opened with; a new one takes its opener's. */
function ownerIdOf(existing: SessionRecord | undefined, caller: Caller): { ownerId?: string } {
  if (existing) return existing.ownerId === undefined ? {} : { ownerId: existing.ownerId };
  return caller.kind === "principal" ? { ownerId: caller.userId } : {};
}
