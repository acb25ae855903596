// Pure transforms from a run's records to the rows the charts and tables draw. No I/O, no
// clock: unit-tested on hand-made records (test/unit/ipopt-report.test.ts).
import type { MoleculeRow, ProgressRecord, RunParams, TaskRecord, TaskTimings } from "./load.ts";

/** One point of the search curves: after each simulate result. */
export interface CurvePoint {
  run: string;
  simulated: number;
  elapsedMin: number;
  found: number;
  bestIpEv: number | null;
}

export function searchCurve(run: string, progress: readonly ProgressRecord[]): CurvePoint[] {
  const start: CurvePoint = { run, simulated: 0, elapsedMin: 0, found: 0, bestIpEv: null };
  return [
    start,
    ...progress.map((p) => ({
      run,
      simulated: p.simulated,
      elapsedMin: p.elapsedMs / 60_000,
      found: p.foundAboveThreshold,
      bestIpEv: p.bestIpEv ?? null,
    })),
  ];
}

/** Endpoint UUID -> the name the run used for it; one name when qc and ml are the same site. */
export function siteNames(params: RunParams): Map<string, string> {
  const { qc, ml } = params.endpoints;
  if (qc === ml) return new Map([[qc, `${params.qcEndpoint} (simulate, train, infer)`]]);
  return new Map([
    [qc, `${params.qcEndpoint} (simulate)`],
    [ml, `${params.mlEndpoint} (train, infer)`],
  ]);
}

const siteOf = (sites: ReadonlyMap<string, string>, endpointId: string) =>
  sites.get(endpointId) ?? endpointId;

/** The earliest moment of the run's tasks (their creation): time zero of the timelines. */
export function runStartMs(tasks: readonly TaskRecord[]): number {
  return tasks.reduce((min, t) => Math.min(min, t.timings.created), Number.POSITIVE_INFINITY);
}

export interface GanttBar {
  site: string;
  worker: string;
  topic: string;
  taskId: string;
  ok: boolean;
  startS: number;
  endS: number;
}

/**
 * One bar per task on its worker (endpoint, host, pid: node workers have one pid per slot),
 * from compute start to end. A task that failed before running has no such span: its bar
 * goes from the agent receiving it to the result being sent, so the failure still shows.
 */
export function ganttBars(
  tasks: readonly TaskRecord[],
  sites: ReadonlyMap<string, string>,
  startMs: number,
): GanttBar[] {
  const bars: GanttBar[] = [];
  for (const t of tasks) {
    const span = computeSpan(t.timings);
    if (!span) continue;
    bars.push({
      site: siteOf(sites, t.worker.endpointId),
      worker: `${t.worker.host}:${t.worker.pid}`,
      topic: t.topic,
      taskId: t.taskId,
      ok: t.ok,
      startS: (span[0] - startMs) / 1000,
      endS: (span[1] - startMs) / 1000,
    });
  }
  return bars;
}

function computeSpan(t: TaskTimings): [number, number] | undefined {
  if (t.started !== undefined && t.ended !== undefined) return [t.started, t.ended];
  const from = t.started ?? t.received;
  const to = t.ended ?? t.resultSent;
  return from !== undefined && to !== undefined && to >= from ? [from, to] : undefined;
}

export interface UtilizationPoint {
  site: string;
  timeS: number;
  busy: number;
  workers: number;
  utilization: number;
}

/**
 * Busy workers / workers per site, a step at each task start and end. The run directory
 * does not record a site's slot count, so `workers` is the most tasks seen running at once
 * there, and at least `minWorkers[site]` (the qc site's num-qc-workers).
 */
export function utilization(
  tasks: readonly TaskRecord[],
  sites: ReadonlyMap<string, string>,
  startMs: number,
  minWorkers: ReadonlyMap<string, number> = new Map(),
): UtilizationPoint[] {
  const events = new Map<string, { ms: number; delta: number }[]>();
  for (const t of tasks) {
    const { started, ended } = t.timings;
    if (started === undefined || ended === undefined) continue;
    const site = siteOf(sites, t.worker.endpointId);
    const list = events.get(site) ?? [];
    list.push({ ms: started, delta: 1 }, { ms: ended, delta: -1 });
    events.set(site, list);
  }
  const points: UtilizationPoint[] = [];
  for (const [site, list] of events) {
    // Ends before starts at the same instant: a worker handing over is not two busy workers.
    list.sort((a, b) => a.ms - b.ms || a.delta - b.delta);
    let busy = 0;
    const steps: { ms: number; busy: number }[] = [];
    for (const e of list) {
      busy += e.delta;
      const last = steps.at(-1);
      if (last && last.ms === e.ms) last.busy = busy;
      else steps.push({ ms: e.ms, busy });
    }
    const peak = Math.max(...steps.map((s) => s.busy));
    const workers = Math.max(peak, minWorkers.get(site) ?? 0, 1);
    if (steps.length > 0) points.push({ site, timeS: 0, busy: 0, workers, utilization: 0 });
    for (const s of steps)
      points.push({
        site,
        timeS: (s.ms - startMs) / 1000,
        busy: s.busy,
        workers,
        utilization: s.busy / workers,
      });
  }
  return points;
}

/** The stages of a task's life the seed paper measures, plus the worker dispatch between. */
export const STAGES = [
  "queue wait",
  "input resolution",
  "worker dispatch",
  "run time",
  "result notification",
  "data access",
] as const;
export type Stage = (typeof STAGES)[number];

export interface StageSample {
  topic: string;
  stage: Stage;
  ms: number;
}

/**
 * Per task: queue wait (sent -> agent received), input resolution (received -> inputs
 * resolved), worker dispatch (inputs resolved -> started), run time (started -> ended),
 * result notification (ended -> the steering process has the result), data access (the
 * agent's store write plus the client's value fetch, when the run recorded it). A stage whose
 * timestamps are missing is left out rather than counted as zero.
 */
export function stageSamples(tasks: readonly TaskRecord[]): StageSample[] {
  const out: StageSample[] = [];
  for (const t of tasks) {
    const s = t.timings;
    const add = (stage: Stage, ms: number | undefined) => {
      if (ms !== undefined && Number.isFinite(ms) && ms >= 0)
        out.push({ topic: t.topic, stage, ms });
    };
    const span = (a?: number, b?: number) =>
      a !== undefined && b !== undefined ? b - a : undefined;
    add("queue wait", span(s.sent, s.received));
    add("input resolution", span(s.received, s.inputsResolved));
    add("worker dispatch", span(s.inputsResolved, s.started));
    add("run time", span(s.started, s.ended));
    add("result notification", span(s.ended, s.resultReceived));
    if (t.ok && (s.storeMs !== undefined || t.valueFetchMs !== undefined))
      add("data access", (s.storeMs ?? 0) + (t.valueFetchMs ?? 0));
  }
  return out;
}

export interface StageSummary {
  topic: string;
  stage: Stage;
  count: number;
  medianMs: number;
  meanMs: number;
  p90Ms: number;
}

/** Median, mean and 90th percentile of each (topic, stage), in STAGES order per topic. */
export function summarizeStages(samples: readonly StageSample[]): StageSummary[] {
  const groups = new Map<string, number[]>();
  for (const s of samples) {
    const key = `${s.topic}\u0000${s.stage}`;
    const list = groups.get(key) ?? [];
    list.push(s.ms);
    groups.set(key, list);
  }
  const topics = [...new Set(samples.map((s) => s.topic))].sort(byTopic);
  const out: StageSummary[] = [];
  for (const topic of topics)
    for (const stage of STAGES) {
      const values = groups.get(`${topic}\u0000${stage}`);
      if (!values || values.length === 0) continue;
      values.sort((a, b) => a - b);
      out.push({
        topic,
        stage,
        count: values.length,
        medianMs: quantile(values, 0.5),
        meanMs: values.reduce((a, b) => a + b, 0) / values.length,
        p90Ms: quantile(values, 0.9),
      });
    }
  return out;
}

/** Linear interpolation between order statistics (numpy's default); `sorted` ascending. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] ?? a;
  return a + (b - a) * (pos - lo);
}

const TOPIC_ORDER = ["simulate", "train", "infer"];
function byTopic(a: string, b: string): number {
  const ia = TOPIC_ORDER.indexOf(a);
  const ib = TOPIC_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

export interface TopMolecule {
  rank: number;
  smiles: string;
  ipEv: number;
  /** Which successful simulation found it (molecules.csv's index). */
  simulation: number;
  /** Campaign time when it was found; undefined when progress.jsonl does not reach it. */
  elapsedMs: number | undefined;
}

/** The `n` highest-IP molecules, with when they were found (from progress.jsonl). */
export function topMolecules(
  molecules: readonly MoleculeRow[],
  progress: readonly ProgressRecord[],
  n: number,
): TopMolecule[] {
  // The progress line where `simulated` first reaches k is the one written for molecule k.
  const whenFound = new Map<number, number>();
  for (const p of progress)
    if (!whenFound.has(p.simulated)) whenFound.set(p.simulated, p.elapsedMs);
  return [...molecules]
    .sort((a, b) => b.ipEv - a.ipEv || a.index - b.index)
    .slice(0, n)
    .map((m, i) => ({
      rank: i + 1,
      smiles: m.smiles,
      ipEv: m.ipEv,
      simulation: m.index,
      elapsedMs: whenFound.get(m.index),
    }));
}
