import type { LocalBackendName } from "#core/config/index.ts";
import type { LocalBucket, LocalPlan, LocalQueue } from "../template.ts";

/** What every local emulator backend is started with. */
export interface BackendOptions {
  /** Ferry home; a backend that keeps files puts them under `<home>/local/`. */
  home: string;
  region: string;
  /** Account id in ARNs and queue URLs. */
  accountId: string;
  /** Port of the SQS endpoint (of SQS and S3 where one server serves both). @default 0 (a free port) */
  port?: number;
  /** Port of the S3 endpoint where a separate server serves it. @default 0 (a free port) */
  s3Port?: number;
}

/** One emulator process of a backend that runs SQS and S3 as separate servers. */
export interface EmulatorServer {
  url: string;
  close(): Promise<void>;
}

/**
 * A running local emulator: SQS and S3 endpoints, provisioned by the caller from the plan of
 * the synthesized stack. Product code never sees which backend it is talking to.
 */
export interface LocalBackend {
  readonly name: LocalBackendName;
  readonly sqsEndpointUrl: string;
  readonly s3EndpointUrl: string;
  createBucket(bucket: LocalBucket): Promise<void>;
  /** Create a queue; returns once the queue is usable, as CloudFormation does. */
  createQueue(queue: LocalQueue): Promise<void>;
  stop(): Promise<void>;
}

/** Create the plan's buckets and queues; dead-letter queues first, others name them. */
export async function provision(backend: LocalBackend, plan: LocalPlan): Promise<void> {
  for (const bucket of plan.buckets) await backend.createBucket(bucket);
  const ordered = [...plan.queues].sort(
    (a, b) => Number("RedrivePolicy" in a.attributes) - Number("RedrivePolicy" in b.attributes),
  );
  for (const queue of ordered) await backend.createQueue(queue);
}
