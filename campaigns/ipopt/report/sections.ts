// The report's sections, one builder each, from a run's data (and a random run's, if given).
import { escapeHtml, htmlTable, type Section } from "./html.ts";
import type { RunData, TaskRecord } from "./load.ts";
import {
  type CurvePoint,
  ganttBars,
  runStartMs,
  type StageSample,
  type StageSummary,
  siteNames,
  topMolecules,
  utilization,
} from "./series.ts";
import { curvesSpec, ganttSpec, overheadSpec, utilizationSpec } from "./specs.ts";
import { moleculeGallery } from "./surrogate-sections.ts";

/** Molecules drawn above the top-molecules table. */
export const DRAWN_MOLECULES = 10;

/**
 * The search curves of this run (and a random-selection run's), against simulations and time;
 * `baselineEv`, the training set's best IP, is drawn as a rule on the best-IP panels.
 */
export function searchSection(
  params: RunData["params"],
  curves: CurvePoint[],
  withRandom: boolean,
  baselineEv?: number,
): Section {
  const baseline = baselineEv === undefined ? "" : " Dashed: the training set's best IP.";
  return {
    title: "Search progress",
    charts: [
      {
        id: "chart-search-simulations",
        title: "Against simulations done.",
        note:
          (withRandom
            ? "This run beside the random-selection run: the gap is what the surrogate buys."
            : "Pass --random <runDir> to draw a random-selection run beside it.") + baseline,
        spec: curvesSpec(curves, "simulated", params.thresholdEv, baselineEv),
      },
      {
        id: "chart-search-time",
        title: "Against wall time.",
        note: `Minutes since the campaign started.${baseline}`,
        spec: curvesSpec(curves, "elapsedMin", params.thresholdEv, baselineEv),
      },
    ],
  };
}

/** Every task on its site and worker, and each site's utilization. */
export function timelineSection(params: RunData["params"], tasks: TaskRecord[]): Section {
  const sites = siteNames(params);
  const startMs = runStartMs(tasks);
  const qcSite = sites.get(params.endpoints.qc) ?? params.endpoints.qc;
  return {
    title: "Timeline",
    charts: [
      {
        id: "chart-gantt",
        title: "Tasks per site and worker.",
        note: "Compute start to end of each task on its worker (host:pid); faded bars failed (a task that failed before running spans received to result sent).",
        spec: ganttSpec(ganttBars(tasks, sites, startMs)),
      },
      {
        id: "chart-utilization",
        title: "Utilization per site.",
        note: `Busy workers / workers. The run does not record slot counts: workers is the most tasks seen running at once on a site (${qcSite}: at least num-qc-workers = ${params.numQcWorkers}).`,
        spec: utilizationSpec(
          utilization(tasks, sites, startMs, new Map([[qcSite, params.numQcWorkers]])),
        ),
      },
    ],
  };
}

/** Where each task type's time goes: a chart of the stages and a table of their statistics. */
export function overheadSection(
  summaries: StageSummary[],
  samples: StageSample[],
  fetchRecorded: boolean,
): Section {
  return {
    title: "Overheads per task type",
    charts: [
      {
        id: "chart-overheads",
        title: "Where a task's time goes.",
        note:
          "Bars: medians; ticks: single tasks. Queue wait: sent to the agent receiving it; input resolution: to inputs resolved; worker dispatch: to compute start; result notification: compute end to the steering process having the result; data access: the agent's store write plus the client's value fetch" +
          (fetchRecorded ? "." : " (this run did not record the client's fetch)."),
        spec: overheadSpec(summaries, samples),
      },
    ],
    html: htmlTable(
      "overheads",
      ["task type", "stage", "tasks", "median (ms)", "mean (ms)", "p90 (ms)"],
      summaries.map((s) => [
        s.topic,
        s.stage,
        String(s.count),
        ms(s.medianMs),
        ms(s.meanMs),
        ms(s.p90Ms),
      ]),
      [0, 1],
    ),
  };
}

/** The 20 best molecules found, with when they were found; the first drawn (RDKit SVG). */
export function topMoleculesSection(
  run: RunData,
  drawings: ReadonlyMap<string, string> = new Map(),
): Section {
  const top = topMolecules(run.molecules, run.progress, 20);
  return {
    title: "Top molecules",
    charts: [],
    html:
      moleculeGallery(top.slice(0, DRAWN_MOLECULES), drawings) +
      htmlTable(
        "top-molecules",
        ["rank", "SMILES", "IP (eV)", "simulation #", "found after"],
        top.map((m) => [
          String(m.rank),
          m.smiles,
          m.ipEv.toFixed(3),
          String(m.simulation),
          m.elapsedMs === undefined ? "" : minutes(m.elapsedMs),
        ]),
        [1],
      ),
  };
}

/** run_params.json and, when recorded, environment.json as they are. */
export function parametersSection(run: RunData): Section {
  return {
    title: "Run parameters",
    charts: [],
    html:
      `<pre id="run-params">${escapeHtml(JSON.stringify(run.params, null, 2))}</pre>` +
      (run.environment
        ? `<h3>Environment</h3><pre>${escapeHtml(JSON.stringify(run.environment, null, 2))}</pre>`
        : ""),
  };
}

/** Seconds under two minutes, minutes above. */
export function minutes(elapsedMs: number): string {
  return elapsedMs < 120_000
    ? `${(elapsedMs / 1000).toFixed(1)} s`
    : `${(elapsedMs / 60_000).toFixed(1)} min`;
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(0);
}
