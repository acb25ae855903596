import type { ResultMessage, TaskError } from "#core/protocol/index.ts";
import { releaseMessage, retryLater } from "./acknowledge.ts";
import { admitMessage, admitToRun, receivedMessage } from "./admit.ts";
import { deliverResult } from "./deliver.ts";
import { encodeStage } from "./encode.ts";
import { stageInputs } from "./inputs.ts";
import { deadLetter, handleMalformed, refuseSilently } from "./malformed.ts";
import { passedByAll, passOn } from "./pass-on.ts";
import { runStage } from "./run.ts";
import { notRunResult, openAttempt, resultOf, type TaskAttempt } from "./task-attempt.ts";
import type { MessageJob, TaskContext } from "./task-context.ts";
import { TaskData } from "./task-data.ts";
import type { WorkerEncoded } from "./worker-data.ts";

/**
 * How an admitted task ends, for its message:
 * - `result`: delivered, then the message is deleted (deliver.ts, result-delivery.ts);
 * - `retry`: an input could not be reached; visible again after a backoff;
 * - `released`: stopped for shutdown; visible again at once, for another agent.
 * - `passed`: a group task this member may not run, sent on for another member (pass-on.ts).
 */
type TaskEnding =
  | { kind: "result"; result: ResultMessage }
  | { kind: "retry"; err: unknown; what: string }
  | { kind: "released" }
  | { kind: "passed"; reason: string };

/** What the stages of a running task share besides the attempt; closed by its handler. */
interface RunScope {
  data: TaskData;
  /** Aborted when a client cancels the task. */
  cancel: AbortSignal;
  /** The worker's ok reply: it says whether anything was staged. */
  replied: { encoded?: WorkerEncoded } | undefined;
}

/**
 * One received message (receive.ts), from body to deleted message, stage by stage: admit
 * (admit.ts), stage inputs (inputs.ts), run (run.ts), encode the result (encode.ts), deliver
 * it (deliver.ts), acknowledge the message (acknowledge.ts). Never throws: every failure
 * becomes a result, a dead letter, or a message left for a later attempt.
 */
export async function handleMessage(ctx: TaskContext, job: MessageJob): Promise<void> {
  const m = receivedMessage(job.message);
  const log = ctx.logger.child({ messageId: job.message.MessageId });
  const admission = admitMessage(ctx, m);
  if (admission.kind === "malformed") {
    const malformed = { ...m, reason: admission.reason, received: job.receivedAt };
    return await handleMalformed(ctx, malformed, log);
  }
  job.onTaskId(admission.task.taskId);
  if (admission.kind === "unanswerable") {
    return await refuseSilently(ctx, { ...m, reason: admission.reason }, log);
  }
  const a = openAttempt(ctx, job, { ...m, task: admission.task });
  if (admission.kind === "exhausted") return await giveUp(a, admission.reason);
  await runAdmitted(a);
}

/** Received more often than it may run: dead-lettered, and its sender told why. */
async function giveUp(a: TaskAttempt, reason: string): Promise<void> {
  a.log.warn({ receiveCount: a.attempt }, "task over maxAttempts: sent to the dead-letter queue");
  if (!(await deadLetter(a.ctx, a.body, reason, a.attempt, a.log))) return;
  const error: TaskError = { type: "WorkerCrashed", message: reason, retriable: false };
  await deliverResult(a, notRunResult(a, error));
}

/** An admitted task's stages, with its visibility kept up and its cancellation watched. */
async function runAdmitted(a: TaskAttempt): Promise<void> {
  a.keeper.start();
  const watch = a.ctx.cancellations.watch({ taskId: a.task.taskId, sessionId: a.task.sessionId });
  const scope: RunScope = {
    data: new TaskData(a.ctx, a.task.taskId),
    cancel: watch.signal,
    replied: undefined,
  };
  try {
    await settle(a, await runStages(a, scope));
  } catch (err) {
    // A bug or an unexpected failure: leave the message; it comes back and counts an attempt.
    a.log.error({ err }, "task handling failed; the message will be delivered again");
  } finally {
    a.live?.stop();
    watch.stop();
    // Every path that hands the message back waited for the keeper already (acknowledge.ts).
    await a.keeper.stop({ wait: false });
    await scope.data.close(a.log, scope.replied);
  }
}

async function runStages(a: TaskAttempt, scope: RunScope): Promise<TaskEnding> {
  const start = await admitToRun(a.ctx, a.job, a.task);
  if (start.kind === "cancelled") return cancelledBeforeStart(a);
  if (start.kind === "refused") {
    a.log.warn({ reason: start.reason }, "task refused");
    return notRun(a, { type: "Refused", message: start.reason, retriable: false });
  }
  if (start.kind === "pass") return passEnding(a, start.reason);
  const staged = await stageInputs(a, scope.data);
  if (staged.kind === "failed") return notRun(a, staged.error);
  if (staged.kind === "unavailable") return { kind: "retry", err: staged.err, what: staged.what };
  a.timings.inputsResolved = Date.now();
  // Cancelled while its function or arguments were being fetched.
  if (scope.cancel.aborted) return cancelledBeforeStart(a);
  const outcome = await runStage(a, staged.inputs, scope.data, scope.cancel);
  if (outcome.kind === "released") return { kind: "released" };
  if (outcome.kind === "unavailable")
    return { kind: "retry", err: outcome.err, what: outcome.what };
  if (outcome.kind === "ok") scope.replied = outcome;
  return { kind: "result", result: resultOf(a, await encodeStage(a, scope.data, outcome)) };
}

/** The message's last word: its result delivered (then it is deleted), or it is handed back. */
function settle(a: TaskAttempt, ending: TaskEnding): Promise<void> {
  switch (ending.kind) {
    case "result":
      return deliverResult(a, ending.result);
    case "retry":
      return retryLater(a, ending.err, ending.what);
    case "released":
      return releaseMessage(a);
    case "passed":
      return passOn(a);
  }
}

/** Passed on while some member has not seen it; refused once every member passed it. */
function passEnding(a: TaskAttempt, reason: string): TaskEnding {
  const everyone = passedByAll(a);
  if (everyone === undefined) return { kind: "passed", reason };
  a.log.warn({ reason }, "no member of the group may run the task");
  const message = `no member of group ${everyone} may run this task; this one said: ${reason}`;
  return notRun(a, { type: "Refused", message, retriable: false });
}

const notRun = (a: TaskAttempt, error: TaskError): TaskEnding => ({
  kind: "result",
  result: notRunResult(a, error),
});

function cancelledBeforeStart(a: TaskAttempt): TaskEnding {
  a.log.info("task cancelled before it started");
  return notRun(a, { type: "Cancelled", message: "cancelled before it started", retriable: false });
}
