import { performance } from "node:perf_hooks";
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import type { BenchContext, BenchOutput } from "./context.ts";
import { FUNCTIONS } from "./deployment.ts";
import { createRawQueue, deleteRawQueue } from "./raw-queues.ts";
import { ratioRow } from "./report.ts";
import { medianStages, stagesOf } from "./stages.ts";
import { summarize } from "./stats.ts";
import { startWorkerChild, stopWorkerChild } from "./worker-child.ts";

const TARGET_RATIO = 1.5;

/**
 * 1. No-op latency, sequential, after warm-up: Ferry's submit -> agent -> result, against the
 * raw two-queue round trip (send, long-poll receive, reply, long-poll receive, with deletes).
 * Rounds alternate between the two so both see the same machine load.
 */
export async function benchLatency(ctx: BenchContext): Promise<BenchOutput> {
  const { conn } = ctx.deployment;
  const sqs = conn.aws.sqs;
  const rounds = ctx.quick ? 30 : 300;
  const warmup = ctx.quick ? 5 : 30;
  const request = await createRawQueue(sqs, "latency-req");
  const reply = await createRawQueue(sqs, "latency-reply");
  const responder = await startWorkerChild("./raw-responder.ts", {
    region: conn.deployment.region,
    sqsEndpoint: conn.deployment.endpoints.sqs ?? "",
    requestQueueUrl: request,
    replyQueueUrl: reply,
  });
  const ferryMs: number[] = [];
  const rawMs: number[] = [];
  const stages: Record<string, number>[] = [];
  const body = JSON.stringify({ v: 1, args: {} });

  const ferryOnce = async (record: boolean) => {
    const started = Date.now();
    const t0 = performance.now();
    const future = await ctx.executor.submit(FUNCTIONS.echo, {}, { endpointId: ctx.endpointId });
    const result = await future.result;
    const elapsed = performance.now() - t0;
    const done = Date.now();
    if (!result.ok) throw new Error(`no-op task failed: ${result.error.message}`);
    if (!record) return;
    ferryMs.push(elapsed);
    stages.push(stagesOf(result.timings, started, done));
    ctx.samples.push({ type: "no-op", timings: result.timings, fetchMs: 0 });
  };
  const rawOnce = async (record: boolean) => {
    const t0 = performance.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: request, MessageBody: body }));
    for (;;) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: reply,
          WaitTimeSeconds: 20,
          MaxNumberOfMessages: 10,
        }),
      );
      const m = out.Messages?.[0];
      if (!m) continue;
      const elapsed = performance.now() - t0;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: reply, ReceiptHandle: m.ReceiptHandle }));
      if (record) rawMs.push(elapsed);
      return;
    }
  };

  try {
    for (let i = 0; i < warmup; i++) {
      await ferryOnce(false);
      await rawOnce(false);
    }
    for (let i = 0; i < rounds; i++) {
      // Alternate who goes first, so neither always follows the other's delete.
      if (i % 2 === 0) {
        await ferryOnce(true);
        await rawOnce(true);
      } else {
        await rawOnce(true);
        await ferryOnce(true);
      }
    }
  } finally {
    await stopWorkerChild(responder);
    await Promise.all([deleteRawQueue(sqs, request), deleteRawQueue(sqs, reply)]);
  }
  const ferry = summarize(ferryMs);
  const raw = summarize(rawMs);
  const common = {
    benchmark: "1",
    unit: "ms",
    baselineName: "raw 2-queue RTT",
    better: "lower",
  } as const;
  return {
    rows: [
      ratioRow({
        ...common,
        what: "no-op latency median",
        ferry: ferry.median,
        baseline: raw.median,
        limit: TARGET_RATIO,
      }),
      ratioRow({
        ...common,
        what: "no-op latency p99",
        ferry: ferry.p99,
        baseline: raw.p99,
        limit: TARGET_RATIO,
      }),
    ],
    details: {
      rounds,
      warmup,
      ferryMs: ferry,
      rawMs: raw,
      // Where Ferry's round trip goes (medians, ms; wall clocks of one machine).
      ferryStagesMedianMs: medianStages(stages),
    },
  };
}
