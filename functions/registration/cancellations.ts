import { registryKeys } from "#core/names.ts";
import {
  type CancellationRecord,
  type ControlData,
  PROTOCOL_VERSION,
} from "#core/protocol/index.ts";
import { mapLimit } from "./concurrency.ts";
import type { RecordStore } from "./registry-store.ts";

/**
 * S3 calls in flight per request: 1,000 ids take about a second, far inside the Lambda's
 * timeout, and far below S3's per-prefix request rate.
 */
const CONCURRENCY = 32;

/** `<13-digit ms>-<task id>.json`: the part of a cancellation's key after its session prefix. */
const RECORD_NAME = /^(\d{13})-([0-9a-f-]{36})\.json$/;

/**
 * Record each task as cancelled, all at the same time `at`. Cancelling again adds records with
 * the new time: only their presence matters. The number of distinct tasks recorded is returned.
 */
export async function recordCancellations(
  store: RecordStore,
  sessionId: string,
  taskIds: readonly string[],
  at: number,
): Promise<number> {
  const unique = [...new Set(taskIds)];
  await mapLimit(unique, CONCURRENCY, (taskId) => {
    const record: CancellationRecord = { v: PROTOCOL_VERSION, taskId, sessionId, at };
    return store.put(registryKeys.cancellation(sessionId, taskId, at), record);
  });
  return unique.length;
}

type SessionCancellations = ControlData<"listCancellations">["sessions"][number];

/**
 * Each session's cancellations after its cursor: one ListObjectsV2 page per session, read from
 * the keys alone (a record's name holds its time and task). Only the session's own prefix is
 * read, and only its owner can write there (cancelTasks), so a cancellation found counts.
 */
export async function listCancellations(
  store: RecordStore,
  sessions: readonly { sessionId: string; after?: string | undefined }[],
): Promise<SessionCancellations[]> {
  return mapLimit(sessions, CONCURRENCY, async ({ sessionId, after }) => {
    const prefix = registryKeys.cancellationsPrefix(sessionId);
    const page = await store.listPage(prefix, prefix + (after ?? ""));
    const taskIds: string[] = [];
    let lastAtMs: number | undefined;
    let lastName: string | undefined;
    for (const key of page.keys) {
      const name = key.slice(prefix.length);
      const match = RECORD_NAME.exec(name);
      if (!match) continue;
      taskIds.push(match[2] ?? "");
      lastAtMs = Math.max(lastAtMs ?? 0, Number(match[1]));
      lastName = name;
    }
    return {
      sessionId,
      taskIds,
      ...(lastAtMs === undefined ? {} : { lastAtMs }),
      ...(page.truncated && lastName ? { next: lastName } : {}),
    };
  });
}
