import type { BenchContext } from "../context.ts";
import { FUNCTIONS } from "../deployment.ts";
import { timedBatch } from "../timed-batch.ts";
import type { Peer } from "./peer.ts";

/**
 * Ferry as the other peers: one agent of `workers` slots on an endpoint of its own, in this
 * run's deployment, driven through the SDK's Executor with the bench's no-op (bench-echo).
 */
export async function startFerry(base: BenchContext, workers: number): Promise<Peer> {
  const { deployment, executor } = base;
  const endpointId = await deployment.registerEndpoint(`peers-${workers}`);
  const agent = await deployment.startAgent(endpointId, { workers });
  const ctx: BenchContext = { ...base, endpointId };
  return {
    name: "Ferry",
    workerSidePids: [agent.child.pid ?? 0],
    versions: { node: process.version },
    async roundtrip(n) {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const future = await executor.submit(FUNCTIONS.echo, {}, { endpointId });
        const result = await future.result;
        times.push(performance.now() - t0);
        if (!result.ok) throw new Error(`no-op task failed: ${result.error.message}`);
      }
      return times;
    },
    async batch(n) {
      const specs = Array.from({ length: n }, (_, i) => ({
        function: FUNCTIONS.echo,
        args: { i },
        endpointId,
      }));
      const { seconds, results } = await timedBatch(ctx, specs, `peers-${workers}`);
      const failed = results.filter((r) => !r.ok).length;
      if (failed > 0) throw new Error(`${failed} of ${n} no-op tasks failed`);
      return seconds;
    },
    async stop() {
      await agent.stop(10_000);
    },
  };
}
