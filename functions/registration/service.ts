import { isDeepStrictEqual } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { NotFoundError, ProtocolError } from "#core/errors.ts";
import { newEndpointId, newSessionId } from "#core/ids.ts";
import { bundleKey, queueNames, registryKeys } from "#core/names.ts";
import { PROTOCOL_VERSION } from "#core/protocol/common.ts";
import type { ControlAction, ControlData, ControlRequest } from "#core/protocol/control.ts";
import { shellFunctionSha256 } from "#core/protocol/function-hash.ts";
import {
  EndpointRecord,
  FunctionRecord,
  HeartbeatRecord,
  SessionRecord,
} from "#core/protocol/registry.ts";
import { findCancellations, recordCancellations } from "./cancellations.ts";
import { mapLimit } from "./concurrency.ts";
import { ConflictError } from "./errors.ts";
import { listParked, parkResult } from "./parked.ts";
import { deleteQueue, ensureQueue } from "./queues.ts";
import { createRecordStore, type RecordStore } from "./registry-store.ts";
import { endpointView, HEARTBEAT_RETENTION_MS } from "./status.ts";

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
}

/** A request's fields without the envelope (`v`, `action`). */
export type ActionInput<A extends ControlAction> = Omit<
  Extract<ControlRequest, { action: A }>,
  "v" | "action"
>;

/** One method per control action, taking validated input and returning the response data. */
export type RegistrationService = {
  [A in ControlAction]: (input: ActionInput<A>) => Promise<ControlData<A>>;
};

/** SQS's maxima: a task may wait two weeks for a site to come back. */
const RETENTION_SECONDS = 1_209_600;
/** 1 MiB, SQS's largest message; inline payloads up to this size skip the store. */
const MAX_MESSAGE_BYTES = 1_048_576;
/** Agents extend visibility while a task runs; this is only the initial lease. */
const TASK_VISIBILITY_SECONDS = 60;
const LONG_POLL_SECONDS = 20;

export function createRegistrationService(deps: RegistrationDeps): RegistrationService {
  const { sqs, s3, bucket, queuePrefix } = deps;
  const now = deps.now ?? Date.now;
  const store = createRecordStore(s3, bucket);

  const taskQueueAttributes = {
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deps.dlqArn,
      maxReceiveCount: deps.maxReceiveCount,
    }),
    VisibilityTimeout: String(TASK_VISIBILITY_SECONDS),
    MessageRetentionPeriod: String(RETENTION_SECONDS),
    ReceiveMessageWaitTimeSeconds: String(LONG_POLL_SECONDS),
    MaximumMessageSize: String(MAX_MESSAGE_BYTES),
  };
  const resultQueueAttributes = {
    MessageRetentionPeriod: String(RETENTION_SECONDS),
    ReceiveMessageWaitTimeSeconds: String(LONG_POLL_SECONDS),
    MaximumMessageSize: String(MAX_MESSAGE_BYTES),
  };

  const requireEndpoint = async (endpointId: string) => {
    const record = await store.get(registryKeys.endpoint(endpointId), EndpointRecord);
    if (!record) {
      throw new NotFoundError(`endpoint ${endpointId} is not registered`, {
        context: { endpointId },
        hint: "register it with `ferry endpoint register <name>`",
      });
    }
    return record;
  };

  const viewOf = async (endpoint: EndpointRecord) => {
    const at = now();
    const heartbeats = await readHeartbeats(store, endpoint.endpointId);
    await pruneHeartbeats(store, heartbeats, at);
    return endpointView(endpoint, heartbeats, at);
  };

  return {
    async registerEndpoint({ name, endpointId }) {
      const id = endpointId ?? newEndpointId();
      const key = registryKeys.endpoint(id);
      const existing = await store.get(key, EndpointRecord);
      if (existing && existing.name !== name) {
        throw new ConflictError(`endpoint ${id} is registered as "${existing.name}"`, {
          context: { endpointId: id },
          hint: `use the name "${existing.name}", or deregister it first`,
        });
      }
      // Also on re-registration: it recreates a queue that was deleted by hand.
      const queueUrl = await ensureQueue(
        sqs,
        queueNames.tasks(queuePrefix, id),
        taskQueueAttributes,
        {
          "ferry:kind": "tasks",
          "ferry:endpoint-id": id,
        },
      );
      const endpoint: EndpointRecord = {
        v: PROTOCOL_VERSION,
        endpointId: id,
        name,
        queueUrl,
        registeredAt: existing?.registeredAt ?? now(),
      };
      if (!isDeepStrictEqual(existing, endpoint)) await store.put(key, endpoint);
      return { endpoint };
    },

    async deregisterEndpoint({ endpointId }) {
      const endpoint = await requireEndpoint(endpointId);
      // The record goes last, so a retry after a partial failure still finds what to delete.
      const heartbeatKeys = await store.list(registryKeys.heartbeatsPrefix(endpointId));
      await mapLimit(heartbeatKeys, 16, (key) => store.delete(key));
      await deleteQueue(sqs, endpoint.queueUrl);
      await store.delete(registryKeys.endpoint(endpointId));
      return { endpointId };
    },

    async describeEndpoint({ endpointId }) {
      return viewOf(await requireEndpoint(endpointId));
    },

    async listEndpoints() {
      const keys = await store.list(registryKeys.endpointsPrefix);
      const endpoints = await store.getMany(keys, EndpointRecord);
      const views = await mapLimit(endpoints, 8, viewOf);
      views.sort(
        (a, b) =>
          a.endpoint.name.localeCompare(b.endpoint.name) ||
          a.endpoint.endpointId.localeCompare(b.endpoint.endpointId),
      );
      return { endpoints: views };
    },

    async heartbeat({ heartbeat }) {
      await requireEndpoint(heartbeat.endpointId);
      const at = now();
      const record: HeartbeatRecord = { ...heartbeat, v: PROTOCOL_VERSION, at };
      await store.put(registryKeys.heartbeat(heartbeat.endpointId, heartbeat.agentId), record);
      return { at };
    },

    async registerFunction({ name, sha256, spec, description }) {
      if (spec.kind === "shell" && shellFunctionSha256(spec.argv) !== sha256) {
        // A shell function's version is its argv: any other hash would let one name stand for
        // code nobody pinned.
        throw new ProtocolError(
          `sha256: must be ${shellFunctionSha256(spec.argv)}, the hash of this argv template (shellFunctionSha256)`,
        );
      }
      if (spec.kind === "node") {
        const expected = bundleKey(sha256);
        if (spec.bundleKey !== expected) {
          throw new ProtocolError(
            `spec.bundleKey: must be "${expected}" (bundles are stored by content hash)`,
          );
        }
        if (!(await store.exists(expected))) {
          throw new NotFoundError(`function bundle s3://${bucket}/${expected} does not exist`, {
            context: { functionName: name },
            hint: "upload the bundle before registering (`ferry function register` does both)",
          });
        }
      }
      const key = registryKeys.function(name, sha256);
      const existing = await store.get(key, FunctionRecord);
      if (existing && !isDeepStrictEqual(existing.spec, spec)) {
        throw new ConflictError(
          `function ${name}@${sha256.slice(0, 12)} is registered with a different spec`,
          {
            context: { functionName: name },
            hint: "the same content hash must always describe the same function",
          },
        );
      }
      const record: FunctionRecord = {
        v: PROTOCOL_VERSION,
        name,
        sha256,
        spec,
        // Re-registering without a description keeps the one already recorded.
        ...((description ?? existing?.description) === undefined
          ? {}
          : { description: description ?? existing?.description }),
        registeredAt: existing?.registeredAt ?? now(),
      };
      if (!isDeepStrictEqual(existing, record)) await store.put(key, record);
      return { function: record };
    },

    async getFunction({ name, sha256 }) {
      if (sha256 !== undefined) {
        const record = await store.get(registryKeys.function(name, sha256), FunctionRecord);
        if (!record) {
          throw new NotFoundError(`function ${name}@${sha256.slice(0, 12)} is not registered`, {
            context: { functionName: name },
          });
        }
        return { function: record };
      }
      const keys = await store.list(registryKeys.functionsPrefix(name));
      const latest = latestVersions(await store.getMany(keys, FunctionRecord)).get(name);
      if (!latest) {
        throw new NotFoundError(`function ${name} is not registered`, {
          context: { functionName: name },
          hint: "register it with `ferry function register`",
        });
      }
      return { function: latest };
    },

    async listFunctions() {
      const keys = await store.list(registryKeys.functionsPrefix());
      const latest = latestVersions(await store.getMany(keys, FunctionRecord));
      const functions = [...latest.values()].sort((a, b) => a.name.localeCompare(b.name));
      return { functions };
    },

    async openSession({ sessionId }) {
      const id = sessionId ?? newSessionId();
      const key = registryKeys.session(id);
      const existing = await store.get(key, SessionRecord);
      if (existing?.closedAt !== undefined) {
        throw new ConflictError(`session ${id} is closed`, {
          context: { sessionId: id },
          hint: "open a new session",
        });
      }
      const resultQueueUrl = await ensureQueue(
        sqs,
        queueNames.results(queuePrefix, id),
        resultQueueAttributes,
        { "ferry:kind": "results", "ferry:session-id": id },
      );
      const session: SessionRecord = {
        v: PROTOCOL_VERSION,
        sessionId: id,
        resultQueueUrl,
        openedAt: existing?.openedAt ?? now(),
      };
      if (!isDeepStrictEqual(existing, session)) await store.put(key, session);
      return { session };
    },

    async closeSession({ sessionId }) {
      const key = registryKeys.session(sessionId);
      const existing = await store.get(key, SessionRecord);
      if (!existing) {
        throw new NotFoundError(`session ${sessionId} does not exist`, { context: { sessionId } });
      }
      // Closing twice keeps the first closing time. The record first: from then on an agent
      // whose result finds no queue parks it for a session that says it is closed.
      const session: SessionRecord = { ...existing, closedAt: existing.closedAt ?? now() };
      if (existing.closedAt === undefined) await store.put(key, session);
      await deleteQueue(sqs, existing.resultQueueUrl);
      return { session };
    },

    // No session lookup: cancelling must work for a closed session's tasks too (they would
    // still burn a site's time), and a record for an unknown task is harmless.
    async cancelTasks({ sessionId, taskIds }) {
      return { cancelled: await recordCancellations(store, sessionId, taskIds, now()) };
    },

    async checkCancellations({ taskIds }) {
      return { cancelled: await findCancellations(store, taskIds) };
    },

    // Kept whether or not the session is known: a result is never the thing that is dropped.
    async parkResult({ result, reason }) {
      return { parked: await parkResult(store, result, reason, now()) };
    },

    async listParkedResults({ sessionId, after }) {
      return listParked(store, sessionId, after);
    },
  };
}

async function readHeartbeats(store: RecordStore, endpointId: string) {
  const keys = await store.list(registryKeys.heartbeatsPrefix(endpointId));
  return store.getMany(keys, HeartbeatRecord);
}

/** Best effort: a failed prune only leaves an old record for the next read. */
async function pruneHeartbeats(store: RecordStore, heartbeats: HeartbeatRecord[], now: number) {
  const old = heartbeats.filter((h) => now - h.at > HEARTBEAT_RETENTION_MS);
  await Promise.allSettled(
    old.map((h) => store.delete(registryKeys.heartbeat(h.endpointId, h.agentId))),
  );
}

/** The most recently registered version of each function name (ties broken by hash). */
function latestVersions(records: readonly FunctionRecord[]): Map<string, FunctionRecord> {
  const latest = new Map<string, FunctionRecord>();
  for (const record of records) {
    const current = latest.get(record.name);
    if (
      !current ||
      record.registeredAt > current.registeredAt ||
      (record.registeredAt === current.registeredAt && record.sha256 > current.sha256)
    ) {
      latest.set(record.name, record);
    }
  }
  return latest;
}
