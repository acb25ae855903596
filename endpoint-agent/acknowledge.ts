import { backoffDelayMs } from "#core/backoff.ts";
import type { TaskAttempt } from "./task-attempt.ts";
import { setVisibility } from "./visibility.ts";

// The acknowledge stage for a task that ends without a result: its message goes back to the
// queue, at once or later. (A delivered result's message is deleted by result-delivery.ts.)

/** The registry or the store is unreachable: try again later, counted by receives. */
export async function retryLater(a: TaskAttempt, err: unknown, what: string): Promise<void> {
  const { ctx } = a;
  const delaySeconds = Math.min(
    ctx.config.visibilityTimeoutSeconds,
    backoffDelayMs(a.attempt, { baseMs: 2_000, capMs: 60_000 }) / 1000,
  );
  a.log.warn({ err, retryInSeconds: delaySeconds }, `cannot ${what}; will retry`);
  await a.keeper.stop();
  await setVisibility(
    ctx.deps.sqs,
    ctx.taskQueueUrl,
    a.receiptHandle,
    delaySeconds,
    ctx.runSignal,
  ).catch((e: unknown) => a.log.warn({ err: e }, "cannot delay the task message"));
}

/** Stopped for shutdown: the message is visible again at once, for another agent. */
export async function releaseMessage(a: TaskAttempt): Promise<void> {
  const { ctx } = a;
  await a.keeper.stop();
  a.log.info("task released for another agent (shutdown)");
  await setVisibility(ctx.deps.sqs, ctx.taskQueueUrl, a.receiptHandle, 0, ctx.runSignal).catch(
    (err: unknown) => a.log.warn({ err }, "cannot release the task message"),
  );
}
