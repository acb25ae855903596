import type { Message } from "@aws-sdk/client-sqs";
import type { SqsBatchers } from "#core/aws/index.ts";
import type { Logger } from "#core/logger.ts";
import type { GroupMembership } from "#core/protocol/index.ts";
import type { Stores } from "#core/store/index.ts";
import type { CancellationWatcher } from "./cancellation.ts";
import type { SiteConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";
import type { FunctionCache } from "./function-cache.ts";
import type { NodeWorkerPool } from "./node-pool.ts";
import type { ResultDelivery } from "./result-delivery.ts";
import type { Slot } from "./slots.ts";
import type { TaskProcesses } from "./task-processes.ts";

/** What every task of one agent run shares. */
export interface TaskContext {
  endpointId: string;
  config: SiteConfig;
  deps: AgentDeps;
  /** The queue this context's messages come from: the endpoint's own, or a group's. */
  taskQueueUrl: string;
  /** Set for a group's queue: its tasks carry the group's id, and are passed on, not refused. */
  group?: GroupMembership;
  /** The task queue's redrive maxReceiveCount, when it has one and it could be read. */
  maxReceiveCount: number | undefined;
  functions: FunctionCache;
  pool: NodeWorkerPool;
  results: ResultDelivery;
  /** Batched SQS calls (visibility extensions, result sends, deletes) shared by all tasks. */
  batchers: SqsBatchers;
  cancellations: CancellationWatcher;
  /** Shell tasks' process groups, for the next agent to reap if this one is killed. */
  processes: TaskProcesses;
  /** Proxy store backends for arguments and results by reference. */
  stores: Stores;
  host: string;
  /** Aborted only at the very end of a run: sends during draining still go out. */
  runSignal: AbortSignal;
  logger: Logger;
}

export interface MessageJob {
  message: Message;
  slot: Slot;
  /** Aborted when shutdown's grace period is over: stop the task and release its message. */
  release: AbortSignal;
  /** Called once the task id is known, for heartbeats. */
  onTaskId: (taskId: string) => void;
  /** When the poller received it (a prefetched message waits before it is handled). */
  receivedAt: number;
  /** The ids of this message's receive batch found cancelled (one check per batch). */
  cancelledAtReceive: Promise<ReadonlySet<string>>;
}
