import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { awsErrorCode } from "../aws/errors.ts";
import { ProtocolError } from "../errors.ts";
import { LiveLogRecord } from "../protocol/live-log.ts";
import { parseJsonWith } from "../protocol/parse.ts";

/**
 * Bigger than any record an agent writes (two 64 KiB tails, JSON-escaped): a larger object
 * is not one, and is not read into memory.
 */
const MAX_RECORD_BYTES = 1_048_576;

export interface LiveLogTarget {
  s3: S3Client;
  bucket: string;
  /** From liveLogLocation(). */
  key: string;
  signal?: AbortSignal;
}

/** Write (overwrite) a task's live log: one PutObject. */
export async function writeLiveLog(target: LiveLogTarget, record: LiveLogRecord): Promise<void> {
  await target.s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      Body: JSON.stringify(record),
      ContentType: "application/json",
    }),
    target.signal ? { abortSignal: target.signal } : {},
  );
}

/**
 * A task's live log, checked against its schema and task; undefined while there is none (the
 * task has not run past the agent's first interval, or its session's objects are not
 * published). Other S3 errors are thrown as the SDK raised them, for the caller to judge.
 */
export async function readLiveLog(
  target: LiveLogTarget,
  expected: { taskId: string; sessionId: string },
): Promise<LiveLogRecord | undefined> {
  let text: string;
  try {
    const response = await target.s3.send(
      new GetObjectCommand({ Bucket: target.bucket, Key: target.key }),
      target.signal ? { abortSignal: target.signal } : {},
    );
    if ((response.ContentLength ?? 0) > MAX_RECORD_BYTES) {
      throw new ProtocolError(`live log ${target.key} is larger than ${MAX_RECORD_BYTES} bytes`);
    }
    text = (await response.Body?.transformToString("utf8")) ?? "";
  } catch (error) {
    const code = awsErrorCode(error);
    if (code === "NoSuchKey" || code === "NotFound") return undefined;
    throw error;
  }
  const record = parseJsonWith(LiveLogRecord, text, `live log ${target.key}`, expected);
  if (record.taskId !== expected.taskId || record.sessionId !== expected.sessionId) {
    throw new ProtocolError(`live log ${target.key} names another task`, { context: expected });
  }
  return record;
}
