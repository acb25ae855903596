import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { BenchOutput, TaskSample } from "./context.ts";
import { type Row, ratioRow } from "./report.ts";
import { median } from "./stats.ts";

/** The seed paper's medians (quoted in README "Performance"), seconds: funcX + Globus, and Parsl + Redis. */
const PAPER = {
  simulate: { notifyFuncx: 0.44, notifyParsl: 0.08, accessFuncx: 0.54, accessParsl: 0.18 },
  infer: { notifyFuncx: 0.91, notifyParsl: 0.02, accessFuncx: 4.17, accessParsl: 0.022 },
  train: { notifyFuncx: 1.12, notifyParsl: 0.08, accessFuncx: 4.37, accessParsl: 0.089 },
} as const;
type PaperType = keyof typeof PAPER;

/** A run's file prefix (simulation-results.jsonl) -> the paper's task type. */
const TRACE_TYPES: Record<string, PaperType> = {
  simulation: "simulate",
  simulate: "simulate",
  inference: "infer",
  infer: "infer",
  training: "train",
  train: "train",
};

/**
 * Bench tasks standing in for the paper's types by message size when no trace is given:
 * simulate moved about 1.5 MB, train 5.6 MB, infer 104 MB.
 */
const STAND_INS: Record<PaperType, string[]> = {
  simulate: ["s3 1 MB"],
  train: ["s3 10 MB"],
  infer: ["s3 100 MB", "s3 10 MB"],
};

/**
 * 6. Campaign overheads: result notification (compute ended -> result in the steering
 * process) and data access (notification + fetching the stored value) per task type, beside
 * the seed paper's figures.
 */
export async function benchOverheads(
  samples: readonly TaskSample[],
  traceDir: string | undefined,
): Promise<BenchOutput> {
  const source = traceDir
    ? `trace ${traceDir}`
    : "no --trace given: bench tasks of benchmarks 1-3 stand in (s3 1 MB for simulate, 10 MB for train, 100 MB (quick: 10 MB) for infer)";
  const byType = traceDir ? await readTrace(traceDir) : standIns(samples);
  const rows: Row[] = [];
  const details: Record<string, unknown> = { source };
  for (const [type, tasks] of byType) {
    const notify = tasks.flatMap((t) => notification(t) ?? []);
    const access = tasks.flatMap((t) => {
      const n = notification(t);
      return n === undefined || t.fetchMs === undefined ? [] : [n + t.fetchMs / 1000];
    });
    const paper = PAPER[type];
    details[type] = {
      tasks: tasks.length,
      notifyMedianS: median(notify),
      accessMedianS: median(access),
    };
    const common = {
      benchmark: "6",
      unit: "s",
      baselineName: "paper funcX",
      better: "lower",
    } as const;
    if (notify.length > 0) {
      rows.push(
        ratioRow({
          ...common,
          what: `${type}: result notification (${tasks.length} tasks)`,
          ferry: median(notify),
          baseline: paper.notifyFuncx,
          note: `Parsl+Redis in the paper: ${paper.notifyParsl} s; ${source}`,
        }),
      );
    }
    if (access.length > 0) {
      rows.push(
        ratioRow({
          ...common,
          what: `${type}: data access`,
          ferry: median(access),
          baseline: paper.accessFuncx,
          baselineName: "paper funcX+Globus",
          note: `Parsl+Redis in the paper: ${paper.accessParsl} s`,
        }),
      );
    }
  }
  if (rows.length === 0) details.empty = "no task with both ended and resultReceived";
  return { rows, details };
}

interface TraceTask {
  timings: { ended?: number; resultReceived?: number };
  /** Milliseconds spent fetching the proxied value, when the trace records it. */
  fetchMs?: number;
}

function notification(t: TraceTask): number | undefined {
  const { ended, resultReceived } = t.timings;
  return ended === undefined || resultReceived === undefined
    ? undefined
    : (resultReceived - ended) / 1000;
}

function standIns(samples: readonly TaskSample[]): Map<PaperType, TraceTask[]> {
  const out = new Map<PaperType, TraceTask[]>();
  for (const [type, candidates] of Object.entries(STAND_INS) as [PaperType, string[]][]) {
    for (const candidate of candidates) {
      const tasks = samples.filter((s) => s.type === candidate);
      if (tasks.length > 0) {
        out.set(type, tasks);
        break;
      }
    }
  }
  return out;
}

/** *-results.jsonl of a run: a result per line, as is or under `result`. */
async function readTrace(dir: string): Promise<Map<PaperType, TraceTask[]>> {
  const out = new Map<PaperType, TraceTask[]>();
  const files = (await readdir(dir)).filter((f) => f.endsWith("-results.jsonl"));
  if (files.length === 0) throw new Error(`no *-results.jsonl in ${dir}`);
  for (const file of files) {
    const type = TRACE_TYPES[basename(file, "-results.jsonl")];
    if (!type) continue;
    const text = await readFile(join(dir, file), "utf8");
    const tasks: TraceTask[] = [];
    for (const line of text.split("\n")) {
      const task = traceTask(line);
      if (task) tasks.push(task);
    }
    out.set(type, [...(out.get(type) ?? []), ...tasks]);
  }
  return out;
}

function traceTask(line: string): TraceTask | undefined {
  if (line.trim() === "") return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const inner = (raw.result ?? raw) as Record<string, unknown>;
  const timings = (inner.timings ?? raw.timings) as TraceTask["timings"] | undefined;
  if (!timings) return undefined;
  // Whichever name the campaign gives the time it spent fetching the value.
  const fetch = [raw.fetchMs, raw.valueFetchMs, raw.dataFetchMs, inner.fetchMs].find(
    (v) => typeof v === "number",
  );
  return { timings, ...(typeof fetch === "number" ? { fetchMs: fetch } : {}) };
}
