// Vega-Lite specifications of the report's charts, data inlined. Plain JSON: the page hands
// each to vega-embed, which renders it to SVG (no canvas, so the test can count the marks).
import {
  type CurvePoint,
  type GanttBar,
  STAGES,
  type StageSample,
  type StageSummary,
  type UtilizationPoint,
} from "./series.ts";

export type ChartSpec = Record<string, unknown>;

/** Task types always get the same colour, in every chart. */
const TOPIC_COLOR = {
  field: "topic",
  type: "nominal",
  title: "task type",
  scale: { domain: ["simulate", "train", "infer"], range: ["#4c78a8", "#f58518", "#54a24b"] },
};

const WIDTH = 420;

/**
 * Found above the threshold and best IP so far, against `x` (simulations or wall time); a
 * dashed rule at `baselineEv`, the training set's best IP, when known.
 */
export function curvesSpec(
  points: readonly CurvePoint[],
  x: "simulated" | "elapsedMin",
  thresholdEv: number,
  baselineEv?: number,
): ChartSpec {
  const xEnc = {
    field: x,
    type: "quantitative",
    title: x === "simulated" ? "simulations done" : "wall time (min)",
  };
  const panel = (field: "found" | "bestIpEv", title: string) => ({
    width: WIDTH,
    height: 220,
    mark: { type: "line", interpolate: "step-after", point: true },
    encoding: {
      x: xEnc,
      y: { field, type: "quantitative", title, scale: { zero: field === "found" } },
      // Run names are long (policy and directory): below the panels, not cut.
      color: {
        field: "run",
        type: "nominal",
        title: "run",
        legend: { orient: "bottom", labelLimit: 600 },
      },
      tooltip: [
        { field: "run" },
        { field: "simulated", title: "simulations" },
        { field: "elapsedMin", title: "minutes", format: ".2f" },
        { field: "found", title: "found" },
        { field: "bestIpEv", title: "best IP (eV)", format: ".3f" },
      ],
    },
  });
  return {
    data: { values: points },
    hconcat: [
      panel("found", `molecules with IP >= ${thresholdEv} eV`),
      withBaseline(
        {
          ...panel("bestIpEv", "best IP so far (eV)"),
          transform: [{ filter: "datum.bestIpEv != null" }],
        },
        baselineEv,
      ),
    ],
  };
}

/** The best-IP panel with a dashed rule at the training set's best, labelled. */
function withBaseline(line: Record<string, unknown>, baselineEv: number | undefined): ChartSpec {
  if (baselineEv === undefined) return line;
  const { width, height, ...curve } = line;
  const rule = { baselineEv, label: `training set best ${baselineEv.toFixed(2)} eV` };
  const y = { field: "baselineEv", type: "quantitative" };
  return {
    width,
    height,
    layer: [
      curve,
      {
        data: { values: [rule] },
        mark: { type: "rule", strokeDash: [4, 3], color: "#888" },
        encoding: { y, tooltip: [{ field: "label" }] },
      },
      {
        data: { values: [rule] },
        mark: { type: "text", align: "left", dx: 4, dy: -6, color: "#666", x: 0 },
        encoding: { y, text: { field: "label" } },
      },
    ],
  };
}

/** One row per worker, one band per site, bars coloured by task type; failures faded. */
export function ganttSpec(bars: readonly GanttBar[]): ChartSpec {
  return {
    data: { values: bars },
    facet: {
      row: {
        field: "site",
        type: "nominal",
        title: null,
        header: { labelAngle: 0, labelAlign: "left", labelOrient: "top" },
      },
    },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 2 * WIDTH,
      height: { step: 16 },
      mark: { type: "bar", cornerRadius: 1 },
      encoding: {
        y: { field: "worker", type: "nominal", title: "worker (host:pid)" },
        x: { field: "startS", type: "quantitative", title: "time since the first task (s)" },
        x2: { field: "endS" },
        color: TOPIC_COLOR,
        opacity: {
          condition: { test: "datum.ok", value: 0.9 },
          value: 0.35,
        },
        tooltip: [
          { field: "topic", title: "task type" },
          { field: "taskId" },
          { field: "ok" },
          { field: "startS", title: "start (s)", format: ".2f" },
          { field: "endS", title: "end (s)", format: ".2f" },
        ],
      },
    },
  };
}

/** Busy workers / workers per site over time. */
export function utilizationSpec(points: readonly UtilizationPoint[]): ChartSpec {
  return {
    data: { values: points },
    width: 2 * WIDTH,
    height: 200,
    mark: { type: "line", interpolate: "step-after" },
    encoding: {
      x: { field: "timeS", type: "quantitative", title: "time since the first task (s)" },
      y: {
        field: "utilization",
        type: "quantitative",
        title: "busy workers / workers",
        axis: { format: "%" },
        scale: { domain: [0, 1] },
      },
      color: {
        field: "site",
        type: "nominal",
        title: "site",
        legend: { orient: "bottom", labelLimit: 600 },
      },
      tooltip: [
        { field: "site" },
        { field: "timeS", title: "time (s)", format: ".2f" },
        { field: "busy" },
        { field: "workers" },
      ],
    },
  };
}

/**
 * Median time of each stage per task type (bars) and every task's value (ticks), on a symlog
 * axis: run times of seconds and notifications of milliseconds in one view, zero included.
 */
export function overheadSpec(
  summaries: readonly StageSummary[],
  samples: readonly StageSample[],
): ChartSpec {
  // One dataset: a facet hands its layers the same rows, told apart by `kind`.
  const values = [
    ...summaries.map((s) => ({ ...s, ms: s.medianMs, kind: "median" })),
    ...samples.map((s) => ({ ...s, kind: "task" })),
  ];
  const y = { field: "stage", type: "nominal", title: null, sort: [...STAGES] };
  const x = {
    field: "ms",
    type: "quantitative",
    title: "ms (symlog scale)",
    scale: { type: "symlog" },
  };
  return {
    data: { values },
    facet: {
      row: { field: "topic", type: "nominal", title: null, sort: ["simulate", "train", "infer"] },
    },
    spec: {
      width: 2 * WIDTH,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'median'" }],
          mark: { type: "bar" },
          encoding: {
            y,
            x,
            color: TOPIC_COLOR,
            tooltip: [
              { field: "stage" },
              { field: "count", title: "tasks" },
              { field: "medianMs", title: "median (ms)", format: ".2f" },
              { field: "meanMs", title: "mean (ms)", format: ".2f" },
              { field: "p90Ms", title: "p90 (ms)", format: ".2f" },
            ],
          },
        },
        {
          transform: [{ filter: "datum.kind === 'task'" }],
          mark: { type: "tick", color: "#222", opacity: 0.5 },
          encoding: { y, x },
        },
      ],
    },
  };
}
