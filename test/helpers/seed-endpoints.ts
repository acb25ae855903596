// Many registered endpoints, fast and honestly: each endpoint's record and name record are
// written through the registration function's own record store (what registerEndpoint writes),
// its task queue is created for real, and its agents' heartbeats go through the real heartbeat
// action of the deployment's registration function (the stale ones are written as the registry
// keeps them, with their old time, as no agent can send one from the past).
import type { S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ControlClient } from "#core/control/index.ts";
import { newEndpointId } from "#core/ids.ts";
import { queueNames, registryKeys } from "#core/names.ts";
import {
  type ControlRequest,
  type EndpointNameRecord,
  type EndpointRecord,
  type EndpointStatus,
  type HeartbeatRecord,
  PROTOCOL_VERSION,
} from "#core/protocol/index.ts";
import { mapLimit } from "#functions/registration/concurrency.ts";
import { createRecordStore, type RegistrationService } from "#functions/registration/index.ts";

export interface SeedTarget {
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  queuePrefix: string;
  control: Pick<ControlClient, "call">;
}

/** What the seeded endpoint at index `i` should show: a tenth online, a tenth stopped, a tenth stale. */
export function seededStatus(i: number): { status: EndpointStatus; agents: number } {
  const kind = i % 10;
  if (kind === 0) return { status: "online", agents: 1 };
  if (kind === 1) return { status: "offline", agents: 1 };
  if (kind === 2) return { status: "stale", agents: 1 };
  return { status: "offline", agents: 0 };
}

export const seededName = (prefix: string, i: number) => `${prefix}-${String(i).padStart(5, "0")}`;

/** A registration service in this process as a control client (the SDK's, the seeder's). */
export function serviceControl(service: RegistrationService): Pick<ControlClient, "call"> {
  const call = (action: string, request: unknown) =>
    (service as unknown as Record<string, (r: unknown) => Promise<unknown>>)[action]?.(request);
  return { call } as unknown as Pick<ControlClient, "call">;
}

/** S3 and SQS calls in flight while seeding. */
const CONCURRENCY = 32;

/** Register endpoints `from`..`to - 1` named `<prefix>-<5 digits>`, with the heartbeats of `seededStatus`. */
export async function seedEndpoints(
  target: SeedTarget,
  prefix: string,
  from: number,
  to: number,
): Promise<EndpointRecord[]> {
  const store = createRecordStore(target.s3, target.bucket);
  const indexes = Array.from({ length: to - from }, (_, k) => from + k);
  const records = await mapLimit(indexes, CONCURRENCY, async (i) => {
    const endpointId = newEndpointId();
    const out = await target.sqs.send(
      new CreateQueueCommand({ QueueName: queueNames.tasks(target.queuePrefix, endpointId) }),
    );
    const name = seededName(prefix, i);
    const record: EndpointRecord = {
      v: PROTOCOL_VERSION,
      endpointId,
      name,
      queueUrl: out.QueueUrl ?? "",
      registeredAt: Date.now(),
    };
    const nameRecord: EndpointNameRecord = { v: PROTOCOL_VERSION, name, endpointId };
    await store.put(registryKeys.endpointName(name), nameRecord);
    await store.put(registryKeys.endpoint(endpointId), record);
    return record;
  });
  const numbered = records.map((record, k) => ({ record, i: from + k }));
  await mapLimit(numbered, CONCURRENCY, async ({ record, i }) => {
    const kind = i % 10;
    if (kind > 2) return;
    const beat = beatOf(record.endpointId, i);
    if (kind === 2) {
      const old: HeartbeatRecord = { ...beat, v: PROTOCOL_VERSION, at: Date.now() - 300_000 };
      return store.put(registryKeys.heartbeat(record.endpointId, beat.agentId), old);
    }
    await target.control.call("heartbeat", {
      heartbeat: kind === 1 ? { ...beat, state: "stopped" } : beat,
    });
  });
  return records;
}

type Beat = Extract<ControlRequest, { action: "heartbeat" }>["heartbeat"];

function beatOf(endpointId: string, i: number): Beat {
  return {
    endpointId,
    agentId: `seed-node-${i}`,
    slots: { total: 4, busy: i % 3 },
    runningTaskIds: [],
    versions: { ferry: "0.1.0", node: process.version },
    host: `seed-node-${i}`,
    pid: 1_000 + i,
  };
}
