import type { FaultKind } from "./faults.ts";

/** What a proxy saw and what it did, for a test to assert and a report to print. */
export interface RealismStats {
  requests: number;
  byOperation: Record<string, number>;
  injected: Record<FaultKind, number>;
  injectedByOperation: Record<string, Partial<Record<FaultKind, number>>>;
  /** The delays the proxy itself added: robust where wall time on a loaded machine is not. */
  latency: { count: number; totalMs: number; minMs: number | null; maxMs: number | null };
}

const KINDS: readonly FaultKind[] = [
  "latency",
  "throttle",
  "serverError",
  "resetBefore",
  "resetAfter",
  "queueNotYetVisible",
  "queueDeletedRecently",
  "deletedQueueLinger",
];

export function emptyStats(): RealismStats {
  const injected = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  return {
    requests: 0,
    byOperation: {},
    injected,
    injectedByOperation: {},
    latency: { count: 0, totalMs: 0, minMs: null, maxMs: null },
  };
}

export function recordRequest(stats: RealismStats, operation: string): void {
  stats.requests++;
  stats.byOperation[operation] = (stats.byOperation[operation] ?? 0) + 1;
}

export function recordInjection(stats: RealismStats, operation: string, kind: FaultKind): void {
  stats.injected[kind]++;
  const forOperation = stats.injectedByOperation[operation] ?? {};
  forOperation[kind] = (forOperation[kind] ?? 0) + 1;
  stats.injectedByOperation[operation] = forOperation;
}

export function recordLatency(stats: RealismStats, operation: string, ms: number): void {
  recordInjection(stats, operation, "latency");
  const l = stats.latency;
  l.count++;
  l.totalMs += ms;
  l.minMs = l.minMs === null ? ms : Math.min(l.minMs, ms);
  l.maxMs = l.maxMs === null ? ms : Math.max(l.maxMs, ms);
}

/** Several proxies' stats as one (the three services of a deployment). */
export function sumStats(all: readonly RealismStats[]): RealismStats {
  const total = emptyStats();
  for (const s of all) {
    total.requests += s.requests;
    for (const [op, n] of Object.entries(s.byOperation)) {
      total.byOperation[op] = (total.byOperation[op] ?? 0) + n;
    }
    for (const kind of KINDS) total.injected[kind] += s.injected[kind];
    for (const [op, kinds] of Object.entries(s.injectedByOperation)) {
      const into = total.injectedByOperation[op] ?? {};
      for (const [kind, n] of Object.entries(kinds) as [FaultKind, number][]) {
        into[kind] = (into[kind] ?? 0) + n;
      }
      total.injectedByOperation[op] = into;
    }
    mergeLatency(total.latency, s.latency);
  }
  return total;
}

function mergeLatency(into: RealismStats["latency"], from: RealismStats["latency"]): void {
  into.count += from.count;
  into.totalMs += from.totalMs;
  if (from.minMs !== null)
    into.minMs = into.minMs === null ? from.minMs : Math.min(into.minMs, from.minMs);
  if (from.maxMs !== null)
    into.maxMs = into.maxMs === null ? from.maxMs : Math.max(into.maxMs, from.maxMs);
}

/** A deep copy, so a caller's snapshot does not change under it as traffic goes on. */
export function snapshot(stats: RealismStats): RealismStats {
  return structuredClone(stats);
}
