import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { TaskAttempt } from "./task-attempt.ts";

// A group task a member may not run (its allow-list, pins or GPUs say no) goes on to the other
// members, not failed: the member sends a copy back to the group queue naming itself in the
// FerryPassedBy attribute, then deletes what it received. The copy starts with a fresh receive
// count, so passing does not use up the task's attempts; once every member has passed it, the
// last one fails it with Refused and the reason. A crash between the send and the delete
// leaves two copies: at-least-once, and the client keeps the first result per task id.

/** The message attribute that names the members that passed a group task on. */
export const PASSED_BY_ATTRIBUTE = "FerryPassedBy";

/** A member that meets a task it passed already waits this long before sending it on again. */
const AGAIN_DELAY_SECONDS = 5;

/** The members that passed this message on, from its attribute. */
function passedBy(a: TaskAttempt): Set<string> {
  const raw = a.job.message.MessageAttributes?.[PASSED_BY_ATTRIBUTE]?.StringValue ?? "";
  return new Set(raw.split(",").filter((id) => id.length > 0));
}

/** The group's name when every member (counting this one) has passed the task, else undefined. */
export function passedByAll(a: TaskAttempt): string | undefined {
  const group = a.ctx.group;
  if (!group) return undefined;
  const passers = passedBy(a).add(a.ctx.endpointId);
  return passers.size >= group.members ? group.name : undefined;
}

/** Send the task back to the group's queue for another member, then delete this copy. */
export async function passOn(a: TaskAttempt): Promise<void> {
  const { ctx } = a;
  await a.keeper.stop();
  const passers = passedBy(a);
  const again = passers.has(ctx.endpointId);
  passers.add(ctx.endpointId);
  try {
    await ctx.deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: ctx.taskQueueUrl,
        MessageBody: a.body,
        DelaySeconds: again ? AGAIN_DELAY_SECONDS : 0,
        MessageAttributes: {
          [PASSED_BY_ATTRIBUTE]: { DataType: "String", StringValue: [...passers].join(",") },
        },
      }),
      { abortSignal: ctx.runSignal },
    );
  } catch (err) {
    // Not sent: the received copy stays and comes back after its visibility timeout.
    a.log.warn({ err }, "cannot pass the group task on; it will come back");
    return;
  }
  a.log.info({ group: ctx.group?.name }, "group task passed on to another member");
  await ctx.batchers
    .delete(ctx.taskQueueUrl, a.receiptHandle)
    .catch((err: unknown) => a.log.warn({ err }, "cannot delete the passed-on task message"));
}
