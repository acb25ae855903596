import { registryKeys } from "#core/names.ts";
import { type CancellationRecord, PROTOCOL_VERSION } from "#core/protocol/index.ts";
import { mapLimit } from "./concurrency.ts";
import type { RecordStore } from "./registry-store.ts";

/**
 * S3 calls in flight per request: 1,000 ids take about a second, far inside the Lambda's
 * timeout, and far below S3's per-prefix request rate.
 */
const CONCURRENCY = 32;

/**
 * Record each task as cancelled. Cancelling again rewrites the record with the new time:
 * only its presence matters. The number of distinct tasks recorded is returned.
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
    return store.put(registryKeys.cancellation(sessionId, taskId), record);
  });
  return unique.length;
}

/**
 * The task ids, in the order given and without duplicates, cancelled by the session their
 * task names: a cancellation recorded under another session (by another owner) does not count.
 */
export async function findCancellations(
  store: RecordStore,
  tasks: readonly { taskId: string; sessionId: string }[],
): Promise<string[]> {
  const unique = [...new Map(tasks.map((t) => [`${t.sessionId}/${t.taskId}`, t])).values()];
  // HeadObject: existence is the answer, so the record's body is never read.
  const found = await mapLimit(unique, CONCURRENCY, (t) =>
    store.exists(registryKeys.cancellation(t.sessionId, t.taskId)),
  );
  return [...new Set(unique.filter((_, i) => found[i]).map((t) => t.taskId))];
}
