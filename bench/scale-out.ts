import { availableParallelism } from "node:os";
import type { BenchContext, BenchOutput } from "./context.ts";
import { FUNCTIONS } from "./deployment.ts";
import { type Row, ratioRow } from "./report.ts";
import { medianStages } from "./stages.ts";
import { timedBatch } from "./timed-batch.ts";

const TARGET_EFFICIENCY = 0.9;
const SLEEP_MS = 50;
const SLOTS_PER_AGENT = 2;
const AGENT_COUNTS = [1, 2, 4];

/**
 * 4. Scale-out: 50 ms sleep tasks through 1, 2 and 4 agents of 2 slots on one endpoint.
 * Efficiency at n agents = throughput(n) / (n x throughput(1)) (linear scaling of the measured
 * single agent); also reported against the sleep-bound ideal, n x slots / 50 ms.
 */
export async function benchScaleOut(ctx: BenchContext): Promise<BenchOutput> {
  const { deployment } = ctx;
  const endpointId = await deployment.registerEndpoint("bench-scale");
  const tasksPerSlot = ctx.quick ? 10 : 60;
  const throughput = new Map<number, number>();
  let running = 0;
  const stagesByAgents: Record<number, Record<string, number>> = {};
  for (const agents of AGENT_COUNTS) {
    while (running < agents) {
      await deployment.startAgent(endpointId, {
        workers: SLOTS_PER_AGENT,
        heartbeatIntervalSeconds: 30,
      });
      running++;
    }
    // Warm-up: every new slot's worker forked.
    await runSleeps(ctx, endpointId, agents * SLOTS_PER_AGENT * (ctx.quick ? 2 : 3));
    const count = agents * SLOTS_PER_AGENT * tasksPerSlot;
    const seconds = await runSleeps(ctx, endpointId, count);
    throughput.set(agents, count / seconds);
    stagesByAgents[agents] = medianStages(ctx.stages["scale-out"] ?? []);
    ctx.log(`  ${agents} agent(s): ${count} tasks in ${seconds.toFixed(2)} s`);
  }
  const one = throughput.get(1) ?? Number.NaN;
  const cores = availableParallelism();
  const processes = Math.max(...AGENT_COUNTS) * (1 + SLOTS_PER_AGENT);
  const bound =
    cores < processes
      ? `this machine has ${cores} cores for ${processes} agent and worker processes plus the emulator and the client: CPU, not Ferry, may bound scale-out here`
      : undefined;
  const rows: Row[] = [];
  for (const agents of AGENT_COUNTS) {
    const measured = throughput.get(agents) ?? Number.NaN;
    const ideal = (agents * SLOTS_PER_AGENT * 1000) / SLEEP_MS;
    rows.push(
      ratioRow({
        benchmark: "4",
        what: `scale-out ${agents} agent(s) x ${SLOTS_PER_AGENT} slots vs ${agents} x 1 agent`,
        unit: "tasks/s",
        ferry: measured,
        baseline: agents * one,
        baselineName: "linear",
        better: "higher",
        ...(agents === 4 ? { limit: TARGET_EFFICIENCY } : {}),
        ...(agents === 4 && bound ? { note: bound } : {}),
      }),
      ratioRow({
        benchmark: "4",
        what: `scale-out ${agents} agent(s) vs sleep-bound ideal`,
        unit: "tasks/s",
        ferry: measured,
        baseline: ideal,
        baselineName: `${SLOTS_PER_AGENT * agents} slots / ${SLEEP_MS} ms`,
        better: "higher",
      }),
    );
  }
  return {
    rows,
    details: {
      sleepMs: SLEEP_MS,
      ferryStagesMedianMs: stagesByAgents,
      slotsPerAgent: SLOTS_PER_AGENT,
      tasksPerSlot,
      throughputTasksPerS: Object.fromEntries(throughput),
      cores,
      cpuBound: bound ?? null,
    },
  };
}

async function runSleeps(ctx: BenchContext, endpointId: string, count: number): Promise<number> {
  const specs = Array.from({ length: count }, () => ({
    function: FUNCTIONS.sleep,
    args: { ms: SLEEP_MS },
    endpointId,
  }));
  const { seconds, results } = await timedBatch(ctx, specs, "scale-out");
  if (results.some((r) => !r.ok)) throw new Error("a sleep task failed");
  return seconds;
}
