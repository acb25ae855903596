import { performance } from "node:perf_hooks";
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Connection } from "#core/connect.ts";
import type { ResultMessage } from "#core/protocol/index.ts";
import type { Executor } from "#sdk/index.ts";
import type { BenchContext, BenchOutput } from "./context.ts";
import { FUNCTIONS } from "./deployment.ts";
import { createRawQueue, deleteRawQueue } from "./raw-queues.ts";
import { ratioRow } from "./report.ts";
import { medianStages, stagesOf } from "./stages.ts";
import { summarize } from "./stats.ts";
import { startWorkerChild, stopWorkerChild } from "./worker-child.ts";

/** The median's target (#17); the p99 keeps the looser bound it had. */
const TARGET_RATIO = 1.3;
const P99_TARGET_RATIO = 1.5;

/**
 * 1. No-op latency, sequential, after warm-up: Ferry's submit -> agent -> result, against the
 * raw two-queue round trip (send, long-poll receive, reply, long-poll receive, with deletes).
 * Rounds alternate between the two so both see the same machine load.
 */
export async function benchLatency(ctx: BenchContext): Promise<BenchOutput> {
  const { conn } = ctx.deployment;
  const rounds = ctx.quick ? 30 : 300;
  const warmup = ctx.quick ? 5 : 30;
  const { ferryMs, rawMs, stages } = await pairedRoundTrips({
    conn,
    executor: ctx.executor,
    endpointId: ctx.endpointId,
    rounds,
    warmup,
    sampled: (timings) => ctx.samples.push({ type: "no-op", timings, fetchMs: 0 }),
  });
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
        limit: P99_TARGET_RATIO,
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

export interface PairedRoundTripOptions {
  /** Where both sides run: the raw queues are made through its SQS client and endpoint. */
  conn: Connection;
  executor: Executor;
  endpointId: string;
  rounds: number;
  warmup: number;
  /** Each measured Ferry task's timings. */
  sampled?: (timings: ResultMessage["timings"]) => void;
}

/** Sequential no-op round trips, Ferry's and the raw two-queue one's, in alternating order. */
export async function pairedRoundTrips(o: PairedRoundTripOptions): Promise<{
  ferryMs: number[];
  rawMs: number[];
  stages: Record<string, number>[];
}> {
  const sqs = o.conn.aws.sqs;
  const request = await createRawQueue(sqs, "latency-req");
  const reply = await createRawQueue(sqs, "latency-reply");
  const responder = await startWorkerChild("./raw-responder.ts", {
    region: o.conn.deployment.region,
    sqsEndpoint: o.conn.deployment.endpoints.sqs ?? "",
    requestQueueUrl: request,
    replyQueueUrl: reply,
  });
  const ferryMs: number[] = [];
  const rawMs: number[] = [];
  const stages: Record<string, number>[] = [];
  const ferryOnce = async (record: boolean) => {
    const started = Date.now();
    const t0 = performance.now();
    const future = await o.executor.submit(FUNCTIONS.echo, {}, { endpointId: o.endpointId });
    const result = await future.result;
    const elapsed = performance.now() - t0;
    const done = Date.now();
    if (!result.ok) throw new Error(`no-op task failed: ${result.error.message}`);
    if (!record) return;
    ferryMs.push(elapsed);
    stages.push(stagesOf(result.timings, started, done));
    o.sampled?.(result.timings);
  };
  const rawOnce = async (record: boolean) => {
    const elapsed = await rawRoundTrip(sqs, request, reply);
    if (record) rawMs.push(elapsed);
  };
  try {
    for (let i = 0; i < o.warmup; i++) {
      await ferryOnce(false);
      await rawOnce(false);
    }
    for (let i = 0; i < o.rounds; i++) {
      // Alternate who goes first, so neither always follows the other's delete.
      const pair = i % 2 === 0 ? [ferryOnce, rawOnce] : [rawOnce, ferryOnce];
      for (const once of pair) await once(true);
    }
  } finally {
    await stopWorkerChild(responder);
    await Promise.all([deleteRawQueue(sqs, request), deleteRawQueue(sqs, reply)]);
  }
  return { ferryMs, rawMs, stages };
}

const RAW_BODY = JSON.stringify({ v: 1, args: {} });

/** One raw round trip: send, then long-poll the reply queue until the echo comes, and delete it. */
async function rawRoundTrip(sqs: SQSClient, request: string, reply: string): Promise<number> {
  const t0 = performance.now();
  await sqs.send(new SendMessageCommand({ QueueUrl: request, MessageBody: RAW_BODY }));
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: reply, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }),
    );
    const m = out.Messages?.[0];
    if (!m) continue;
    const elapsed = performance.now() - t0;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: reply, ReceiptHandle: m.ReceiptHandle }));
    return elapsed;
  }
}
