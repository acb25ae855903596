import { performance } from "node:perf_hooks";
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { sendInBatches } from "#sdk/batch-sender.ts";
import type { BenchContext, BenchOutput } from "./context.ts";
import { FUNCTIONS } from "./deployment.ts";
import { createRawQueue, deleteRawQueue } from "./raw-queues.ts";
import { ratioRow } from "./report.ts";
import { medianStages } from "./stages.ts";
import { timedBatch } from "./timed-batch.ts";
import { startWorkerChild, stopWorkerChild } from "./worker-child.ts";

const TARGET_RATIO = 1.0;

/**
 * 2. Throughput: N no-op tasks through one agent of 8 slots, against a minimal sqs-consumer
 * worker doing the same echo between two plain queues. Both: all tasks sent with the same
 * batch sender, results collected by one long-poll loop (10 a receive, batch deletes), clock
 * from the first send to the last result.
 */
export async function benchThroughput(ctx: BenchContext): Promise<BenchOutput> {
  const { conn } = ctx.deployment;
  const sqs = conn.aws.sqs;
  const tasks = ctx.quick ? 200 : 5_000;

  // Warm-up: every slot's worker forked, and the consumer's first polls done.
  await runFerry(ctx, 32);
  const ferrySeconds = await runFerry(ctx, tasks);
  ctx.log(`  ferry: ${tasks} tasks in ${ferrySeconds.toFixed(2)} s`);

  const request = await createRawQueue(sqs, "tput-req");
  const reply = await createRawQueue(sqs, "tput-reply");
  const worker = await startWorkerChild("./consumer-worker.ts", {
    region: conn.deployment.region,
    sqsEndpoint: conn.deployment.endpoints.sqs ?? "",
    requestQueueUrl: request,
    replyQueueUrl: reply,
  });
  let baselineSeconds: number;
  try {
    await runRaw(sqs, request, reply, 32);
    baselineSeconds = await runRaw(sqs, request, reply, tasks);
  } finally {
    await stopWorkerChild(worker);
    await Promise.all([deleteRawQueue(sqs, request), deleteRawQueue(sqs, reply)]);
  }
  ctx.log(`  sqs-consumer: ${tasks} tasks in ${baselineSeconds.toFixed(2)} s`);
  const ferry = tasks / ferrySeconds;
  const baseline = tasks / baselineSeconds;
  return {
    rows: [
      ratioRow({
        benchmark: "2",
        what: `throughput, ${tasks} no-ops, 8 slots`,
        unit: "tasks/s",
        ferry,
        baseline,
        baselineName: "sqs-consumer echo",
        better: "higher",
        limit: TARGET_RATIO,
      }),
    ],
    details: {
      ferryStagesMedianMs: medianStages(ctx.stages.throughput ?? []),
      tasks,
      ferrySeconds,
      baselineSeconds,
      ferryTasksPerS: ferry,
      baselineTasksPerS: baseline,
    },
  };
}

async function runFerry(ctx: BenchContext, count: number): Promise<number> {
  const specs = Array.from({ length: count }, (_, i) => ({
    function: FUNCTIONS.echo,
    args: { i },
    endpointId: ctx.endpointId,
  }));
  const { seconds, results } = await timedBatch(ctx, specs, "throughput");
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) throw new Error(`${failed} of ${count} no-op tasks failed`);
  return seconds;
}

async function runRaw(sqs: SQSClient, request: string, reply: string, count: number) {
  const messages = Array.from({ length: count }, (_, i) => ({
    id: String(i),
    body: JSON.stringify({ i }),
  }));
  const t0 = performance.now();
  const collected = collect(sqs, reply, count);
  await sendInBatches(sqs, request, messages);
  await collected;
  return (performance.now() - t0) / 1000;
}

/** Receive until `count` distinct replies arrived, deleting each batch (as the Executor does). */
async function collect(sqs: SQSClient, queueUrl: string, count: number): Promise<void> {
  const seen = new Set<string>();
  while (seen.size < count) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 20,
        MaxNumberOfMessages: 10,
      }),
    );
    const messages = out.Messages ?? [];
    for (const m of messages) seen.add(m.Body ?? "");
    if (messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }
}
