import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { AgentProcess } from "#local/index.ts";
import { Executor, registerNodeFunction, waitForEndpointsOnline } from "#sdk/index.ts";
import { startFaultDeployment } from "../test/faults/deployment.ts";
import type { RealisticDeployment } from "../test/faults/realistic.ts";
import type { RealismStats } from "../test/realism/index.ts";
import type { BenchOutput } from "./context.ts";
import { FUNCTIONS } from "./deployment.ts";
import { pairedRoundTrips } from "./latency.ts";
import { ratioRow } from "./report.ts";
import { medianStages, stagesOf } from "./stages.ts";
import { summarize } from "./stats.ts";

/** Control-plane calls (Lambda invokes and the S3 requests they make) per 1,000 no-op tasks. */
const CONTROL_CALLS_LIMIT = 10;
/** Ferry's no-op round trip against the raw two-queue one, both under the injected latency. */
const LATENCY_RATIO_LIMIT = 1.2;
const INJECTED_LATENCY_MS = 20;
const SLOTS = 8;

/**
 * 7. Through the AWS-realism proxies (test/realism), with their own deployment: every request
 * of the client, the agent and the registration function goes through a proxy that counts it,
 * so the control-plane calls a no-op task costs are counted, not estimated; then each proxy
 * adds 20 ms per call, and the no-op round trip is timed against the raw two-queue round trip
 * through the same proxies: the number of sequential AWS calls on the task path is what shows.
 */
export async function benchRealism(options: {
  quick: boolean;
  log(line: string): void;
}): Promise<BenchOutput> {
  const home = await mkdtemp(join(tmpdir(), "ferry-bench-realism-"));
  const d = await startFaultDeployment(home);
  const realism = await d.realistic({ minLatencyOnly: ["ReceiveMessage"] }, 7);
  let stopAgent = async () => {};
  try {
    const { endpointId, agent } = await startAgent(d, realism);
    stopAgent = async () => void (await agent.stop(10_000));
    const executor = new Executor({ sqs: realism.conn.aws.sqs, control: realism.conn.control });
    await executor.open();
    try {
      const calls = await countCalls(realism, executor, endpointId, options.quick ? 1_000 : 5_000);
      options.log(`  control-plane calls per 1,000 no-ops: ${calls.controlPer1000.toFixed(1)}`);
      realism.setFaults({ latencyMs: { min: INJECTED_LATENCY_MS, max: INJECTED_LATENCY_MS } });
      const trips = await pairedRoundTrips({
        conn: realism.conn,
        executor,
        endpointId,
        rounds: options.quick ? 10 : 60,
        warmup: options.quick ? 3 : 10,
      });
      return output(calls, trips);
    } finally {
      await executor.close();
    }
  } finally {
    await stopAgent();
    await d.close();
  }
}

type Deployment = Awaited<ReturnType<typeof startFaultDeployment>>;

/** One agent of 8 slots on a new endpoint, reaching everything through the proxies. */
async function startAgent(
  d: Deployment,
  realism: RealisticDeployment,
): Promise<{ endpointId: string; agent: AgentProcess }> {
  const { endpoint } = await realism.conn.control.call("registerEndpoint", {
    name: "bench-realism",
  });
  const echo = fileURLToPath(new URL("./functions/echo.ts", import.meta.url));
  const deps = { s3: d.conn.aws.s3, bucket: d.conn.deployment.bucketName, control: d.conn.control };
  await registerNodeFunction(deps, echo, FUNCTIONS.echo);
  const config = await d.siteConfig("realism", { workers: SLOTS });
  const agent = d.spawnAgent(endpoint.endpointId, config, realism.env);
  try {
    await waitForEndpointsOnline(realism.conn.control, [endpoint.endpointId], 60_000);
  } catch (error) {
    await agent.stop(10_000);
    throw error;
  }
  return { endpointId: endpoint.endpointId, agent };
}

interface CallCounts {
  tasks: number;
  seconds: number;
  controlPer1000: number;
  /** Per service, requests per 1,000 tasks, by operation. */
  per1000: Record<string, Record<string, number>>;
  stagesMedianMs: Record<string, number>;
}

/** `tasks` no-ops sent at once after a warm-up; what the proxies saw meanwhile, per 1,000. */
async function countCalls(
  realism: RealisticDeployment,
  executor: Executor,
  endpointId: string,
  tasks: number,
): Promise<CallCounts> {
  const batch = async (count: number) => {
    const specs = Array.from({ length: count }, (_, i) => ({
      function: FUNCTIONS.echo,
      args: { i },
      endpointId,
    }));
    const submittedAt = Date.now();
    const t0 = performance.now();
    const futures = await executor.submitMany(specs);
    const results = await Promise.all(futures.map((f) => f.result));
    const done = Date.now();
    const failed = results.filter((r) => !r.ok).length;
    if (failed > 0) throw new Error(`${failed} no-op task(s) failed through the proxies`);
    const stages = results.map((r) => stagesOf(r.timings, submittedAt, done));
    return { seconds: (performance.now() - t0) / 1_000, stages };
  };
  await batch(64);
  const before = realism.statsByService();
  const { seconds, stages } = await batch(tasks);
  const after = realism.statsByService();
  const per1000: Record<string, Record<string, number>> = {};
  for (const service of ["sqs", "s3", "lambda"] as const) {
    per1000[service] = perThousand(before[service], after[service], tasks);
  }
  const total = (service: string) => per1000[service]?.total ?? 0;
  return {
    tasks,
    seconds,
    controlPer1000: total("lambda") + total("s3"),
    per1000,
    stagesMedianMs: medianStages(stages),
  };
}

function perThousand(before: RealismStats, after: RealismStats, tasks: number) {
  const out: Record<string, number> = {
    total: ((after.requests - before.requests) * 1_000) / tasks,
  };
  for (const [op, n] of Object.entries(after.byOperation)) {
    const delta = n - (before.byOperation[op] ?? 0);
    if (delta > 0) out[op] = (delta * 1_000) / tasks;
  }
  return out;
}

function output(
  calls: CallCounts,
  trips: { ferryMs: number[]; rawMs: number[]; stages: Record<string, number>[] },
): BenchOutput {
  const ferry = summarize(trips.ferryMs);
  const raw = summarize(trips.rawMs);
  return {
    rows: [
      // The target is an absolute count: the row's baseline is the target itself.
      ratioRow({
        benchmark: "7",
        what: `control-plane calls per 1,000 no-ops (Lambda + S3), ${calls.tasks} tasks`,
        unit: "calls",
        ferry: calls.controlPer1000,
        baseline: CONTROL_CALLS_LIMIT,
        baselineName: "the target",
        better: "lower",
        limit: 1,
      }),
      ratioRow({
        benchmark: "7",
        what: `no-op latency median, ${INJECTED_LATENCY_MS} ms per AWS call`,
        unit: "ms",
        ferry: ferry.median,
        baseline: raw.median,
        baselineName: "raw 2-queue RTT, same latency",
        better: "lower",
        limit: LATENCY_RATIO_LIMIT,
      }),
    ],
    details: {
      calls,
      injectedLatencyMs: INJECTED_LATENCY_MS,
      ferryMs: ferry,
      rawMs: raw,
      ferryStagesMedianMs: medianStages(trips.stages),
    },
  };
}
