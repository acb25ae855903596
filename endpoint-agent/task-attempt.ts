import type { Logger } from "#core/logger.ts";
import type { ResultMessage, TaskError, TaskMessage } from "#core/protocol/index.ts";
import type { ReceivedMessage } from "./admit.ts";
import type { LiveLog } from "./live-log.ts";
import { buildResult, notRun, type Reported, type ResultTimings } from "./result-builder.ts";
import type { MessageJob, TaskContext } from "./task-context.ts";
import { VisibilityKeeper } from "./visibility.ts";

/**
 * One attempt at one admitted task: what its stages share, from admission to the message's
 * last word. Built before anything runs; the keeper starts only once the task may run.
 */
export interface TaskAttempt {
  ctx: TaskContext;
  job: MessageJob;
  task: TaskMessage;
  /** The message body as received (the dead-letter queue keeps it verbatim). */
  body: string;
  receiptHandle: string;
  /** This receive's number: the attempt the result reports. */
  attempt: number;
  timings: ResultTimings;
  worker: { endpointId: string; host: string; pid: number };
  /** Keeps the message invisible while the task is handled. */
  keeper: VisibilityKeeper;
  /** Set while the function runs, when its output is published (live-log.ts). */
  live: LiveLog | undefined;
  log: Logger;
}

/** What admission learnt of a message that holds a task. */
export type AttemptOf = ReceivedMessage & { task: TaskMessage };

/** The attempt's shared state, its visibility keeper built but not started. */
export function openAttempt(ctx: TaskContext, job: MessageJob, of: AttemptOf): TaskAttempt {
  const { task, receiptHandle } = of;
  const log = ctx.logger.child({ taskId: task.taskId, functionName: task.function.name });
  const received = job.receivedAt;
  return {
    ctx,
    job,
    task,
    body: of.body,
    receiptHandle,
    attempt: of.receiveCount,
    timings: { created: task.created, sent: task.sent, received },
    worker: { endpointId: ctx.endpointId, host: ctx.host, pid: process.pid },
    keeper: new VisibilityKeeper({
      batchers: ctx.batchers,
      queueUrl: ctx.taskQueueUrl,
      receiptHandle,
      visibilityTimeoutSeconds: ctx.config.visibilityTimeoutSeconds,
      receivedAt: received,
      signal: ctx.runSignal,
      logger: log,
    }),
    live: undefined,
    log,
  };
}

/** The result of this attempt, from what it reports. */
export function resultOf(a: TaskAttempt, reported: Reported): ResultMessage {
  return buildResult(a.task, a.attempt, a.timings, a.worker, a.job.slot, reported);
}

/** The failed result of this attempt when the function did not run. */
export function notRunResult(a: TaskAttempt, error: TaskError): ResultMessage {
  return resultOf(a, notRun(error));
}
