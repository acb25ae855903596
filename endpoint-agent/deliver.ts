import type { ResultMessage } from "#core/protocol/index.ts";
import { deletePayload, isTemporaryPayload } from "#core/store/index.ts";
import type { TaskAttempt } from "./task-attempt.ts";

/**
 * The deliver stage: the result goes to the task's reply queue, and the task message is
 * deleted only after that (result-delivery.ts: sent, parked, or spooled to be re-sent).
 * Once it is out for good the task's temporary arguments are deleted: they had their last
 * reader.
 */
export async function deliverResult(a: TaskAttempt, result: ResultMessage): Promise<void> {
  const { ctx, task } = a;
  // Not waiting for an extension in flight: one landing after the delete fails, unlogged;
  // waiting put a whole AWS call on every short task's result path.
  await a.keeper.stop({ wait: false });
  // Before the result: a follower that sees the result finds the whole output published.
  await a.live?.end(result);
  const how = await ctx.results.deliver({
    result,
    replyTo: task.replyTo,
    taskQueueUrl: ctx.taskQueueUrl,
    receiptHandle: a.receiptHandle,
  });
  const error = result.ok ? {} : { error: result.error.type };
  a.log.info({ ok: result.ok, ...error, delivery: how, attempt: a.attempt }, "task finished");
  // The task is over for good: its temporary arguments have had their last reader. (A spooled
  // result's task message is left in the queue: the task may run again.)
  if (how !== "spooled" && isTemporaryPayload(task.args)) {
    await deletePayload(task.args, ctx.stores).catch((err: unknown) =>
      a.log.warn({ err }, "cannot delete the task's temporary arguments"),
    );
  }
}
