import { join } from "node:path";
import type { Connection } from "#core/connect.ts";
import { createStores, type StorePolicies } from "#core/store/index.ts";
import { Executor, type ExecutorOptions } from "./executor.ts";

/** Session journals live here, one JSON-lines file per session. */
export const journalDirOf = (conn: Connection) => join(conn.env.home, "sessions");

/**
 * An Executor wired to a deployment: its S3 store, a shared-directory store when a policy names
 * one, and a journal under $FERRY_HOME/sessions.
 */
export function executorFor(
  conn: Connection,
  options: ExecutorOptions & { storePolicies?: StorePolicies; fileDir?: string } = {},
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
