/**
 * Ferry's client SDK: the package's public entry point (`import { connect, executorFor } from
 * "ferry"`). The CLI and the campaigns use only what is named here.
 */

export { type FerryEnv, loadEnv } from "#core/config/index.ts";
export { type Connection, connect } from "#core/connect.ts";
export {
  ConfigError,
  ConflictError,
  describeError,
  FerryError,
  IntegrityError,
  NotFoundError,
  RefusedError,
  TaskFailedError,
  TaskTimeoutError,
  TransientError,
} from "#core/errors.ts";
export type { FunctionRecord, ResultMessage, TaskError } from "#core/protocol/index.ts";
export { asCompleted } from "./as-completed.ts";
export { listAllEndpoints } from "./endpoints.ts";
export { Executor } from "./executor.ts";
export type {
  CloseOptions,
  ExecutorDeps,
  ExecutorOptions,
  SubmitOptions,
  TaskFuture,
  ValueOptions,
} from "./executor-types.ts";
export { executorFor, journalDirOf } from "./from-connection.ts";
export {
  bundleFunction,
  type RegisterNodeFunctionDeps,
  registerNodeFunction,
  registerShellFunction,
  shellFunctionSha256,
} from "./functions.ts";
export {
  type JournalTask,
  listJournals,
  readJournal,
  SessionJournal,
  type SessionSummary,
  stateOf,
  type TaskState,
} from "./journal.ts";
export { checkFunctionName, resolveEndpointId } from "./resolve.ts";
export {
  forEachParkedPage,
  ResultListener,
  type ResultListenerOptions,
} from "./result-listener.ts";
export { closestNames } from "./suggest.ts";
export type { TaskSpec } from "./task-builder.ts";
export { waitForEndpointsOnline } from "./wait.ts";
