import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ControlClient } from "#core/control/index.ts";
import type { Logger } from "#core/logger.ts";
import type { ResultMessage } from "#core/protocol/index.ts";
import type { StorePolicies, Stores } from "#core/store/index.ts";
import type { TaskSpec } from "./task-builder.ts";

// The Executor's public options and return types (executor.ts).

/**
 * What an Executor talks to. executorFor builds these from a Connection; build them yourself
 * only to share clients or to test against fakes.
 */
export interface ExecutorDeps {
  /** Sends task messages to the endpoints' queues and long-polls the session's result queue. */
  sqs: SQSClient;
  /** The control plane: sessions, function versions, endpoint queues, cancels, parked results. */
  control: Pick<ControlClient, "call">;
  /**
   * Backends for arguments and results sent by reference. Unset: a value that must go by
   * reference (over its topic's threshold, or not plain JSON) is refused with a ConfigError, and
   * a result that came by reference cannot be read.
   */
  stores?: Stores;
  /** Where warnings go (a malformed result dropped, a session left open); unset: nowhere. */
  logger?: Logger;
}

/** How an Executor sends tasks and where it keeps its journal; executorFor fills `journalDir`. */
export interface ExecutorOptions {
  /**
   * How each topic's values travel (resolveStorePolicy builds one): inline up to the policy's
   * threshold, by reference through its backend past it. A topic named here also asks agents to
   * send its results the same way, unless their site config sets a policy for it.
   * @default {} (every topic: s3 past 10,000 bytes)
   */
  storePolicies?: StorePolicies;
  /**
   * Where session journals go, one file per session, so a restarted client can reattach to its
   * session with futures for the tasks still pending. Unset: no journal (executorFor sets
   * `$FERRY_HOME/sessions`).
   */
  journalDir?: string;
  /**
   * Walltime of tasks that set none: an agent stops a task that runs longer and reports a
   * `Timeout` error. 1 to 39,600 s (11 h); anything else is refused at submit.
   * @default 3_600
   */
  walltimeSeconds?: number;
  /**
   * Deliveries allowed to tasks that set none: each time an agent stops before reporting (a crash,
   * a kill) counts one. A function that fails is reported as it is, not retried.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * With tasks pending and no result for this long, ask the control plane for results agents
   * parked because the session's queue refused them.
   * @default 30_000
   */
  parkedCheckIntervalMs?: number;
}

/** A task's options besides its function and arguments: where it runs, and its limits. */
export type SubmitOptions = Omit<TaskSpec, "function" | "args">;

/** A submitted task: its id (for `result`, `cancel`, the CLI) and the promise of its result. */
export interface TaskFuture {
  /** The task's id, a UUIDv7, as `ferry tasks` and `ferry logs` show it. */
  taskId: string;
  /**
   * Settles with the task's result message, failed tasks included (check `ok`); rejects only if
   * the executor closes first.
   */
  result: Promise<ResultMessage>;
}

/** Options of Executor.value. */
export interface ValueOptions {
  /** Leave a temporary stored value in the store, to read it again. @default false */
  keep?: boolean;
}

/** Options of Executor.close. */
export interface CloseOptions {
  /**
   * Also close the session: `true` only when no task is pending, `"force"` regardless.
   * @default false (stop listening; the session stays open for a reattach)
   */
  closeSession?: boolean | "force";
}
