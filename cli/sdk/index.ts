export {
  Executor,
  type ExecutorDeps,
  type ExecutorOptions,
  type SubmitOptions,
  type TaskFuture,
  type TaskSpec,
} from "./executor.ts";
export { executorFor, journalDirOf } from "./from-connection.ts";
export {
  type JournalTask,
  listJournals,
  readJournal,
  SessionJournal,
  type SessionSummary,
  stateOf,
  type TaskState,
} from "./journal.ts";
export {
  forEachParkedPage,
  ResultListener,
  type ResultListenerOptions,
} from "./result-listener.ts";
export { waitForEndpointsOnline } from "./wait.ts";
