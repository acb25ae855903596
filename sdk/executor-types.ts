import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ControlClient } from "#core/control/index.ts";
import type { Logger } from "#core/logger.ts";
import type { ResultMessage } from "#core/protocol/index.ts";
import type { StorePolicies, Stores } from "#core/store/index.ts";
import type { TaskSpec } from "./task-builder.ts";

// The Executor's public options and return types (executor.ts).

export interface ExecutorDeps {
  sqs: SQSClient;
  control: Pick<ControlClient, "call">;
  /** Backends for arguments and results sent by reference; unset: everything inline. */
  stores?: Stores;
  logger?: Logger;
}

export interface ExecutorOptions {
  /** Per-topic store policies (backend and byte threshold), from resolveStorePolicy. @default {} (s3 past 10 kB when a store exists) */
  storePolicies?: StorePolicies;
  /** Where session journals go, so a restarted client can reattach; unset: no journal. */
  journalDir?: string;
  /** Defaults for every task. */
  walltimeSeconds?: number;
  maxAttempts?: number;
  /**
   * With tasks pending and no result for this long, ask the control plane for results agents
   * parked because the session's queue refused them.
   * @default 30_000
   */
  parkedCheckIntervalMs?: number;
}

export type SubmitOptions = Omit<TaskSpec, "function" | "args">;

export interface TaskFuture {
  taskId: string;
  result: Promise<ResultMessage>;
}
