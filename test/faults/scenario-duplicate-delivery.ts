import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { newTaskId } from "#core/ids.ts";
import { PROTOCOL_VERSION, TaskMessage } from "#core/protocol/index.ts";
import { executorFor, type Scenario, sleep } from "./scenario.ts";
import { Tally } from "./tally.ts";

/**
 * The same task message delivered twice (two copies in the queue, as SQS's at-least-once
 * delivery may do): both may run, the client surfaces one result per task id.
 */
export const duplicateDelivery: Scenario = {
  name: "duplicate-delivery",
  async run({ d, quick, log }) {
    const tasks = quick ? 50 : 200;
    const tally = new Tally(`duplicate delivery (${tasks} tasks x2)`);
    const endpointId = await d.registerEndpoint("faults-dup");
    await d.registerNode("short", "short.ts");
    const config = await d.siteConfig("dup", {
      workers: 4,
      pollWaitSeconds: 1,
      shutdownGraceSeconds: 1,
    });
    const agents = [d.spawnAgent(endpointId, config), d.spawnAgent(endpointId, config)];
    const executor = executorFor(d.conn, tally);
    const session = await executor.open();
    const following = tally.follow(executor);
    try {
      const ref = await executor.resolveFunction("short");
      const { endpoint } = await d.conn.control.call("describeEndpoint", { endpointId });
      const bodies = Array.from({ length: tasks }, (_, i) => {
        const now = Date.now();
        const task = TaskMessage.parse({
          v: PROTOCOL_VERSION,
          taskId: newTaskId(),
          sessionId: session.sessionId,
          endpointId,
          function: ref,
          args: { inline: { i, ms: 20 } },
          replyTo: session.resultQueueUrl,
          created: now,
          sent: now,
        });
        tally.submitted.add(task.taskId);
        executor.result(task.taskId);
        return JSON.stringify(task);
      });
      // Each body twice, the copies in different batches so different agents may take them.
      const copies = [...bodies, ...bodies];
      for (let i = 0; i < copies.length; i += 10) {
        await d.conn.aws.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: endpoint.queueUrl,
            Entries: copies
              .slice(i, i + 10)
              .map((body, j) => ({ Id: String(j), MessageBody: body })),
          }),
        );
      }
      if (!(await tally.waitForAll(180_000, log)))
        tally.problems.push("not every task had a result");
      // The second copy's result may come after the first: wait until both were seen.
      const deadline = Date.now() + 20_000;
      while (
        Date.now() < deadline &&
        [...tally.raw.values()].filter((n) => n >= 2).length < tasks
      ) {
        await sleep(250);
      }
      await sleep(1_000);
      const twice = [...tally.raw.values()].filter((n) => n >= 2).length;
      tally.notes.push(
        `${tasks * 2} messages sent; ${twice}/${tasks} tasks had both copies' results reach the result queue; each surfaced once`,
      );
    } finally {
      await executor.close();
      await following;
      await Promise.all(agents.map((a) => a.stop(5_000)));
    }
    return tally.figures();
  },
};
