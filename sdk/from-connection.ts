import { join } from "node:path";
import type { Connection } from "#core/connect.ts";
import { createStores, type StorePolicies } from "#core/store/index.ts";
import { Executor } from "./executor.ts";
import type { ExecutorOptions } from "./executor-types.ts";

/**
 * Where executorFor keeps session journals, one JSON-lines file per session:
 * `$FERRY_HOME/sessions`. Pass it to listJournals and readJournal.
 */
export const journalDirOf = (conn: Connection) => join(conn.env.home, "sessions");

/**
 * An Executor wired to a deployment: its S3 store, a shared-directory store when a policy names
 * one, and a journal under $FERRY_HOME/sessions, which lets a restarted program re-attach to
 * its session (`open(sessionId)`) and still get every result. Options given win over these.
 * @example
 * ```ts
 * const conn = await connect();
 * const executor = executorFor(conn, { walltimeSeconds: 600 });
 * // A session id from an earlier run re-attaches to it; undefined opens a new session.
 * const session = await executor.open(process.env.SESSION_ID);
 * console.log(`session ${session.sessionId}: ${executor.pendingTaskIds().length} pending`);
 * ```
 */
export function executorFor(
  conn: Connection,
  options: ExecutorOptions & {
    storePolicies?: StorePolicies;
    /**
     * This side's mount of the `file` backend's shared directory, for a reader whose mount
     * differs from the writer's.
     * @default the fileDir of the `file` policies in storePolicies (they must agree)
     */
    fileDir?: string;
  } = {},
): Executor {
  const stores = createStores({
    s3: { client: conn.aws.s3, bucket: conn.deployment.bucketName },
    ...(options.fileDir ? { fileDir: options.fileDir } : {}),
    ...(options.storePolicies ? { policies: options.storePolicies } : {}),
  });
  return new Executor(
    { sqs: conn.aws.sqs, control: conn.control, stores },
    { journalDir: journalDirOf(conn), ...options },
  );
}
