import { backoffDelayMs } from "#core/backoff.ts";
import { FerryError } from "#core/errors.ts";
import type { FunctionRecord, ResultMessage, TaskError } from "#core/protocol/index.ts";
import { parseJsonWith, TaskMessage } from "#core/protocol/index.ts";
import {
  decodePayloadTimed,
  deletePayload,
  describeNonJson,
  isTemporaryPayload,
} from "#core/store/index.ts";
import { type LiveLog, liveLogFor } from "./live-log.ts";
import { deadLetter, handleMalformed, refuseSilently } from "./malformed.ts";
import { policyRefusal, replyToRefusal, resolutionError } from "./policy.ts";
import { buildResult, notRun, type Reported, type ResultTimings } from "./result-builder.ts";
import { encodeResult } from "./result-encoding.ts";
import type { RunTask } from "./run-outcome.ts";
import { runShell } from "./shell-runner.ts";
import type { MessageJob, TaskContext } from "./task-context.ts";
import { TaskData } from "./task-data.ts";
import { setVisibility, VisibilityKeeper } from "./visibility.ts";
import type { WorkerEncoded } from "./worker-data.ts";
import type { ArgsRef, ResultSpec } from "./worker-ipc.ts";

/**
 * One received message, from body to deleted message: validate, check attempts and policy,
 * resolve the function and the arguments, run it, deliver the result. Never throws: every
 * failure becomes a result, a dead letter, or a message left for a later attempt.
 */
export async function handleMessage(ctx: TaskContext, job: MessageJob): Promise<void> {
  const received = job.receivedAt;
  const { message } = job;
  const body = message.Body ?? "";
  const receiptHandle = message.ReceiptHandle ?? "";
  const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? "1") || 1;
  const log = ctx.logger.child({ messageId: message.MessageId });

  let task: TaskMessage;
  try {
    task = parseJsonWith(TaskMessage, body, "task message", { endpointId: ctx.endpointId });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    await handleMalformed(ctx, { body, receiptHandle, receiveCount, reason, received }, log);
    return;
  }
  job.onTaskId(task.taskId);
  const badReply = replyToRefusal(task, ctx.deps.queuePrefix);
  if (badReply) {
    await refuseSilently(ctx, { body, receiptHandle, receiveCount, reason: badReply }, log);
    return;
  }
  const tlog = ctx.logger.child({ taskId: task.taskId, functionName: task.function.name });
  const attempt = receiveCount;
  const worker = { endpointId: ctx.endpointId, host: ctx.host, pid: process.pid };
  const timings: ResultTimings = { created: task.created, sent: task.sent, received };
  const reply = (error: TaskError) =>
    buildResult(task, attempt, timings, worker, job.slot, notRun(error));
  const keeper = new VisibilityKeeper({
    batchers: ctx.batchers,
    queueUrl: ctx.taskQueueUrl,
    receiptHandle,
    visibilityTimeoutSeconds: ctx.config.visibilityTimeoutSeconds,
    receivedAt: received,
    signal: ctx.runSignal,
    logger: tlog,
  });
  /** Set while the function runs, when its output is published (live-log.ts). */
  let live: LiveLog | undefined;
  const deliver = async (result: ResultMessage) => {
    // An extension landing after the delete would only log noise; one after a release, harm.
    await keeper.stop();
    // Before the result: a follower that sees the result finds the whole output published.
    await live?.end(result);
    const how = await ctx.results.deliver({
      result,
      replyTo: task.replyTo,
      taskQueueUrl: ctx.taskQueueUrl,
      receiptHandle,
    });
    const error = result.ok ? {} : { error: result.error.type };
    tlog.info({ ok: result.ok, ...error, delivery: how, attempt }, "task finished");
    // The task is over for good: its temporary arguments have had their last reader.
    if (how !== "spooled" && isTemporaryPayload(task.args)) {
      await deletePayload(task.args, ctx.stores).catch((err: unknown) =>
        tlog.warn({ err }, "cannot delete the task's temporary arguments"),
      );
    }
  };
  // The registry or the store is unreachable: try again later, counted by receives.
  const retryLater = async (err: unknown, what: string) => {
    const delaySeconds = Math.min(
      ctx.config.visibilityTimeoutSeconds,
      backoffDelayMs(attempt, { baseMs: 2_000, capMs: 60_000 }) / 1000,
    );
    tlog.warn({ err, retryInSeconds: delaySeconds }, `cannot ${what}; will retry`);
    await keeper.stop();
    await setVisibility(
      ctx.deps.sqs,
      ctx.taskQueueUrl,
      receiptHandle,
      delaySeconds,
      ctx.runSignal,
    ).catch((e: unknown) => tlog.warn({ err: e }, "cannot delay the task message"));
  };

  const attemptLimit = attemptsAllowed(task.maxAttempts, ctx.maxReceiveCount);
  if (receiveCount > attemptLimit) {
    const cappedBy =
      attemptLimit < task.maxAttempts
        ? `, and the task queue's redrive policy allows ${attemptLimit} (maxReceiveCount ${ctx.maxReceiveCount})`
        : "";
    const reason = `received ${receiveCount} times, more than its maxAttempts (${task.maxAttempts}${cappedBy}): the agents running it kept stopping before reporting a result`;
    tlog.warn({ receiveCount }, "task over maxAttempts: sent to the dead-letter queue");
    if (!(await deadLetter(ctx, body, reason, receiveCount, tlog))) return;
    await deliver(reply({ type: "WorkerCrashed", message: reason, retriable: false }));
    return;
  }

  keeper.start();
  const watch = ctx.cancellations.watch({ taskId: task.taskId, sessionId: task.sessionId });
  const data = new TaskData(ctx, task.taskId);
  /** The worker's ok reply: it says whether anything was staged. */
  let replied: { encoded?: WorkerEncoded } | undefined;
  const cancelledBeforeStart = () => {
    tlog.info("task cancelled before it started");
    return deliver(
      reply({ type: "Cancelled", message: "cancelled before it started", retriable: false }),
    );
  };
  try {
    // Checked first: a cancelled task is not fetched, resolved or refused, only reported.
    if ((await job.cancelledAtReceive).has(task.taskId)) return await cancelledBeforeStart();
    const refusal = policyRefusal(ctx, task);
    if (refusal) {
      tlog.warn({ reason: refusal }, "task refused");
      await deliver(reply({ type: "Refused", message: refusal, retriable: false }));
      return;
    }

    let record: FunctionRecord;
    let bundlePath: string | undefined;
    try {
      record = await ctx.functions.record(task.function, ctx.runSignal);
      if (record.spec.kind === "node") {
        bundlePath = await ctx.functions.bundlePath(record, ctx.runSignal);
      }
    } catch (err) {
      const error = resolutionError(task, err);
      if (!error) return await retryLater(err, "resolve the function");
      tlog.warn({ error }, "task not run");
      return await deliver(reply(error));
    }

    let args: unknown;
    let argsRef: ArgsRef | undefined;
    try {
      // A node worker reads arguments stored by reference itself; the rest are decoded here.
      if (record.spec.kind === "node") argsRef = await data.argsRef(task.args);
      if (!argsRef) args = (await decodePayloadTimed(task.args, ctx.stores)).value;
    } catch (err) {
      if (!(err instanceof FerryError)) return await retryLater(err, "fetch the arguments");
      const message = `arguments: ${err.toOneLine()}`;
      return await deliver(reply({ type: "InputError", message, retriable: false }));
    }
    const nonJson = record.spec.kind === "shell" ? describeNonJson(args) : undefined;
    if (nonJson) {
      const message = `a shell function takes JSON arguments on stdin, but they hold ${nonJson}`;
      return await deliver(reply({ type: "InputError", message, retriable: false }));
    }
    timings.inputsResolved = Date.now();

    // Cancelled while its function or arguments were being fetched.
    if (watch.signal.aborted) return await cancelledBeforeStart();

    const walltimeSeconds = hasOwnWalltime(body)
      ? task.walltimeSeconds
      : ctx.config.defaultWalltimeSeconds;
    live = liveLogFor(liveLogOptions(ctx, tlog), task, attempt);
    const run: RunTask = {
      taskId: task.taskId,
      sessionId: task.sessionId,
      functionName: task.function.name,
      sha256: task.function.sha256,
      args,
      walltimeMs: walltimeSeconds * 1000,
      ...(argsRef ? { argsRef } : {}),
      ...(record.spec.kind === "node"
        ? specOf(data.resultSpec(task.topic, task.resultStore, task.objectOwner))
        : {}),
      gpu: job.slot.gpu,
      release: job.release,
      cancel: watch.signal,
      ...(live ? { output: live } : {}),
      logger: tlog,
    };
    live?.start();
    tlog.info({ attempt, gpu: job.slot.gpu }, "task started");
    const outcome =
      record.spec.kind === "shell"
        ? await runShell(run, record.spec.argv, {
            scratchRoot: ctx.config.scratchDir,
            endpointId: ctx.endpointId,
            passEnv: ctx.config.passEnv,
            killGraceMs: ctx.config.killGraceSeconds * 1000,
            processes: ctx.processes,
          })
        : await ctx.pool.run(run, bundlePath ?? "");
    if (outcome.kind === "released") {
      await keeper.stop();
      tlog.info("task released for another agent (shutdown)");
      await setVisibility(ctx.deps.sqs, ctx.taskQueueUrl, receiptHandle, 0, ctx.runSignal).catch(
        (err: unknown) => tlog.warn({ err }, "cannot release the task message"),
      );
      return;
    }
    let reported: Reported;
    if (outcome.kind === "ok") {
      replied = outcome;
      if (outcome.inputsResolved !== undefined) timings.inputsResolved = outcome.inputsResolved;
      const encoded = outcome.encoded
        ? await data.finish(outcome.encoded, {
            signal: ctx.runSignal,
            logger: tlog,
            owner: task.objectOwner,
          })
        : await encodeResult(outcome.value, task.topic, {
            policies: ctx.config.storePolicies,
            stores: ctx.stores,
            signal: ctx.runSignal,
            logger: tlog,
            fromTask: task.resultStore,
            owner: task.objectOwner,
          });
      if (encoded.ok) {
        timings.serializeMs = encoded.serializeMs;
        timings.storeMs = encoded.storeMs;
        reported = { ...outcome, value: encoded.payload };
      } else {
        reported = { ...outcome, kind: "failed", error: encoded.error };
      }
    } else {
      reported = outcome;
    }
    await deliver(buildResult(task, attempt, timings, worker, job.slot, reported));
  } catch (err) {
    // A bug or an unexpected failure: leave the message; it comes back and counts an attempt.
    tlog.error({ err }, "task handling failed; the message will be delivered again");
  } finally {
    live?.stop();
    watch.stop();
    await keeper.stop();
    await data.close(tlog, replied);
  }
}

/**
 * Attempts a task gets: its own maxAttempts, but fewer than the queue's maxReceiveCount. On the
 * receive after that SQS moves the message to the dead-letter queue itself, where no agent
 * sees it and no result would ever be sent: the agent must be the one to give up, and say so.
 */
export function attemptsAllowed(maxAttempts: number, maxReceiveCount: number | undefined): number {
  if (maxReceiveCount === undefined) return maxAttempts;
  return Math.max(1, Math.min(maxAttempts, maxReceiveCount - 1));
}

const specOf = (resultSpec: ResultSpec | undefined) => (resultSpec ? { resultSpec } : {});

const liveLogOptions = (ctx: TaskContext, logger: TaskContext["logger"]) => ({
  s3: ctx.deps.s3,
  bucket: ctx.deps.bucket,
  endpointId: ctx.endpointId,
  intervalSeconds: ctx.config.liveLogIntervalSeconds,
  signal: ctx.runSignal,
  logger,
});

/** Whether the sender chose a walltime; the schema's default would hide that. */
function hasOwnWalltime(body: string): boolean {
  try {
    const raw = JSON.parse(body) as Record<string, unknown>;
    return raw.walltimeSeconds !== undefined;
  } catch {
    return false;
  }
}
