import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { EndpointRecord, StoredHeartbeat } from "#core/protocol/index.ts";
import type { IndexedRecords } from "./registry-index.ts";
import type { RecordStore } from "./registry-store.ts";

export interface RegistrationDeps {
  sqs: SQSClient;
  s3: S3Client;
  /** The store bucket; the registry lives under `registry/`. */
  bucket: string;
  /** Target of every task queue's redrive policy. */
  dlqArn: string;
  queuePrefix: string;
  /** Receives of a task message before SQS moves it to the DLQ. */
  maxReceiveCount: number;
  /** Clock in epoch ms, injectable for tests. @default Date.now */
  now?: () => number;
  /** Bytes of endpoint views per listEndpoints page, smaller in tests. @default 4_000_000 */
  listPageBytes?: number;
}

/** What every action handler shares. */
export interface ServiceContext {
  deps: RegistrationDeps;
  store: RecordStore;
  /** Endpoint records and heartbeats as listings read them: cached by ETag, per container. */
  indexes: {
    endpoints: IndexedRecords<EndpointRecord>;
    heartbeats: IndexedRecords<StoredHeartbeat>;
  };
  now: () => number;
}

/** SQS's maxima: a task may wait two weeks for a site to come back. */
const RETENTION_SECONDS = 1_209_600;
/** 1 MiB, SQS's largest message; inline payloads up to this size skip the store. */
const MAX_MESSAGE_BYTES = 1_048_576;
/** Agents extend visibility while a task runs; this is only the initial lease. */
const TASK_VISIBILITY_SECONDS = 60;
const LONG_POLL_SECONDS = 20;

export function taskQueueAttributes(deps: RegistrationDeps): Record<string, string> {
  return {
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deps.dlqArn,
      maxReceiveCount: deps.maxReceiveCount,
    }),
    VisibilityTimeout: String(TASK_VISIBILITY_SECONDS),
    MessageRetentionPeriod: String(RETENTION_SECONDS),
    ReceiveMessageWaitTimeSeconds: String(LONG_POLL_SECONDS),
    MaximumMessageSize: String(MAX_MESSAGE_BYTES),
  };
}

export const RESULT_QUEUE_ATTRIBUTES: Record<string, string> = {
  MessageRetentionPeriod: String(RETENTION_SECONDS),
  ReceiveMessageWaitTimeSeconds: String(LONG_POLL_SECONDS),
  MaximumMessageSize: String(MAX_MESSAGE_BYTES),
};
