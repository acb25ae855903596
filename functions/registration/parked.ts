import { registryKeys } from "#core/names.ts";
import { ParkedResult, PROTOCOL_VERSION, type ResultMessage } from "#core/protocol/index.ts";
import type { RecordStore } from "./registry-store.ts";

/**
 * Bytes of parked results per listParkedResults answer: a synchronous Lambda response carries
 * at most 6 MB, and one result is at most a queue message (1 MiB) plus its envelope.
 */
const PAGE_BYTES = 4_000_000;

/**
 * Keep a result for its session's client. The first result parked for a task stays: a later
 * attempt's duplicate changes nothing (the client drops duplicates by task id anyway).
 */
export async function parkResult(
  store: RecordStore,
  result: ResultMessage,
  reason: string,
  at: number,
  parkedBy?: string,
): Promise<boolean> {
  const key = registryKeys.parked(result.sessionId, result.taskId);
  if (await store.exists(key)) return false;
  const record: ParkedResult = {
    v: PROTOCOL_VERSION,
    sessionId: result.sessionId,
    taskId: result.taskId,
    reason,
    parkedAt: at,
    ...(parkedBy === undefined ? {} : { parkedBy }),
    result,
  };
  await store.put(key, record);
  return true;
}

/** One page of a session's parked results, in key order, after the key `after`. */
export async function listParked(
  store: RecordStore,
  sessionId: string,
  after: string | undefined,
): Promise<{ results: ParkedResult[]; next?: string }> {
  const keys = (await store.list(registryKeys.parkedPrefix(sessionId)))
    .sort()
    .filter((key) => after === undefined || key > after);
  const results: ParkedResult[] = [];
  let bytes = 0;
  for (const [i, key] of keys.entries()) {
    const record = await store.get(key, ParkedResult);
    if (!record) continue;
    const size = Buffer.byteLength(JSON.stringify(record));
    if (results.length > 0 && bytes + size > PAGE_BYTES) {
      return { results, next: keys[i - 1] ?? key };
    }
    results.push(record);
    bytes += size;
  }
  return { results };
}
