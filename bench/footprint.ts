import { execFile } from "node:child_process";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { BenchContext, BenchOutput } from "./context.ts";
import { treeUsage } from "./proc.ts";
import { createRawQueue, deleteRawQueue } from "./raw-queues.ts";
import { ratioRow } from "./report.ts";
import { median } from "./stats.ts";
import { startWorkerChild, stopWorkerChild } from "./worker-child.ts";

const run = promisify(execFile);
const FERRY_BIN = fileURLToPath(new URL("../bin/ferry.js", import.meta.url));

/**
 * 5. Footprint: a fresh agent (one slot, no task run yet) left idle, against an idle
 * sqs-consumer worker over the same window: resident memory at the end and CPU time used
 * (process trees). Then the CLI's start time (`ferry --version`) against `node -e 0`.
 */
export async function benchFootprint(ctx: BenchContext): Promise<BenchOutput> {
  const { deployment } = ctx;
  const { conn } = deployment;
  const idleSeconds = ctx.quick ? 10 : 30;
  const cliRuns = ctx.quick ? 3 : 10;
  const endpointId = await deployment.registerEndpoint("bench-idle");
  const agent = await deployment.startAgent(endpointId, { workers: 1 });
  const request = await createRawQueue(conn.aws.sqs, "idle-req");
  const consumer = await startWorkerChild("./consumer-worker.ts", {
    region: conn.deployment.region,
    sqsEndpoint: conn.deployment.endpoints.sqs ?? "",
    requestQueueUrl: request,
    replyQueueUrl: request,
  });
  const agentPid = agent.child.pid ?? 0;
  const consumerPid = consumer.pid ?? 0;
  let idle: { agent: Usage; consumer: Usage };
  try {
    // Let start-up work (imports, first heartbeat) finish before the window opens.
    await sleep(2_000);
    const before = { agent: await treeUsage(agentPid), consumer: await treeUsage(consumerPid) };
    await sleep(idleSeconds * 1000);
    const after = { agent: await treeUsage(agentPid), consumer: await treeUsage(consumerPid) };
    idle = {
      agent: {
        rssMiB: after.agent.rssMiB,
        cpuS: after.agent.cpuS - before.agent.cpuS,
        pids: after.agent.pids,
      },
      consumer: {
        rssMiB: after.consumer.rssMiB,
        cpuS: after.consumer.cpuS - before.consumer.cpuS,
        pids: after.consumer.pids,
      },
    };
  } finally {
    await stopWorkerChild(consumer);
    await deleteRawQueue(conn.aws.sqs, request);
    await agent.stop(10_000);
  }

  const ferryStartMs = await timeRuns([FERRY_BIN, "--version"], deployment.env, cliRuns);
  const nodeStartMs = await timeRuns(["-e", "0"], deployment.env, cliRuns);
  const cpuPercent = (s: number) => (100 * s) / idleSeconds;
  return {
    rows: [
      ratioRow({
        benchmark: "5",
        what: `idle agent RSS (${idleSeconds} s)`,
        unit: "MiB",
        ferry: idle.agent.rssMiB,
        baseline: idle.consumer.rssMiB,
        baselineName: "idle sqs-consumer",
        better: "lower",
      }),
      ratioRow({
        benchmark: "5",
        what: `idle agent CPU over ${idleSeconds} s`,
        unit: "% of a core",
        ferry: cpuPercent(idle.agent.cpuS),
        baseline: cpuPercent(idle.consumer.cpuS),
        baselineName: "idle sqs-consumer",
        better: "lower",
      }),
      ratioRow({
        benchmark: "5",
        what: `CLI start, median of ${cliRuns}`,
        unit: "ms",
        ferry: median(ferryStartMs),
        baseline: median(nodeStartMs),
        baselineName: "node -e 0",
        better: "lower",
      }),
    ],
    details: { idleSeconds, idle, ferryStartMs, nodeStartMs },
  };
}

interface Usage {
  rssMiB: number;
  cpuS: number;
  pids: number;
}

async function timeRuns(args: string[], env: NodeJS.ProcessEnv, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run(process.execPath, args, { env });
    times.push(performance.now() - t0);
  }
  return times;
}
