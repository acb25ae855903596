import { type Row, ratioRow } from "../report.ts";
import type { PeerName } from "./peer.ts";

/** What the table compares, per system at one worker count (medians of the repetitions). */
export interface PeerStats {
  roundtripMedianMs: number;
  roundtripP99Ms: number;
  tasksPerS: number;
  /** Pss of the worker side, idle after the warm-up (the target). */
  idlePssMiB: number;
  /** The same once every repetition ran: what a worker side keeps from its tasks. */
  idleAfterRunsPssMiB: number;
}

type Metric = keyof PeerStats;
type Baseline = Exclude<PeerName, "Ferry">;

/** Issue #17's targets for Ferry / peer; every other row is reported without one. */
export const PEER_TARGETS: readonly {
  metric: Metric;
  peer: Baseline;
  limit: number;
  /** Worker counts the target is set at; all when absent. */
  workers?: readonly number[];
}[] = [
  { metric: "tasksPerS", peer: "Celery+Redis", limit: 1.0 },
  // "An idle agent with 2 warm workers no heavier than Dask's worker side."
  { metric: "idlePssMiB", peer: "Dask", limit: 1.0, workers: [2] },
];

const METRICS: Record<Metric, { what: string; unit: string; better: "lower" | "higher" }> = {
  roundtripMedianMs: { what: "no-op round trip median", unit: "ms", better: "lower" },
  roundtripP99Ms: { what: "no-op round trip p99", unit: "ms", better: "lower" },
  tasksPerS: { what: "throughput, {tasks} no-ops", unit: "tasks/s", better: "higher" },
  idlePssMiB: { what: "idle worker side Pss", unit: "MiB", better: "lower" },
  idleAfterRunsPssMiB: {
    what: "idle worker side Pss after the runs",
    unit: "MiB",
    better: "lower",
  },
};

export function targetFor(metric: Metric, peer: Baseline, workers: number): number | undefined {
  const target = PEER_TARGETS.find(
    (t) => t.metric === metric && t.peer === peer && (t.workers?.includes(workers) ?? true),
  );
  return target?.limit;
}

/** The table's rows at one worker count: every metric, Ferry against each peer in turn. */
export function peerRows(
  workers: number,
  tasks: number,
  stats: { Ferry: PeerStats } & Partial<Record<Baseline, PeerStats>>,
): Row[] {
  const rows: Row[] = [];
  for (const metric of Object.keys(METRICS) as Metric[]) {
    const { what, unit, better } = METRICS[metric];
    for (const peer of ["Dask", "Celery+Redis"] as const) {
      const baseline = stats[peer];
      if (!baseline) continue;
      rows.push(
        ratioRow({
          benchmark: `P${workers}`,
          what: `${what.replace("{tasks}", String(tasks))}, ${workers} workers`,
          unit,
          ferry: stats.Ferry[metric],
          baseline: baseline[metric],
          baselineName: peer,
          better,
          limit: targetFor(metric, peer, workers),
        }),
      );
    }
  }
  return rows;
}
