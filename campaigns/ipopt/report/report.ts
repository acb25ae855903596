// A run directory -> report.html: load, transform, lay out. `ferry campaign report` and the
// demo call writeReport.
import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { escapeHtml, htmlTable, type Page, readChartLibraries, renderPage } from "./html.ts";
import { loadRun, type RunData } from "./load.ts";
import {
  ganttBars,
  runStartMs,
  searchCurve,
  siteNames,
  stageSamples,
  summarizeStages,
  topMolecules,
  utilization,
} from "./series.ts";
import { curvesSpec, ganttSpec, overheadSpec, utilizationSpec } from "./specs.ts";

export interface ReportOptions {
  runDir: string;
  /** Where to write; default `<runDir>/report.html`. */
  out?: string;
  /** A random-selection run of the same campaign, drawn beside this one's search curves. */
  randomDir?: string;
}

/** Writes the report and returns its path. */
export async function writeReport(options: ReportOptions): Promise<string> {
  const run = await loadRun(options.runDir);
  const random = options.randomDir ? await loadRun(options.randomDir) : undefined;
  const html = renderPage(buildPage(run, random), await readChartLibraries());
  const out = options.out ?? join(options.runDir, "report.html");
  await writeFile(out, html);
  return out;
}

const runLabel = (run: RunData) => `${run.params.policy}: ${basename(run.dir)}`;

export function buildPage(run: RunData, random?: RunData): Page {
  const { params } = run;
  const tasks = [...run.simulations, ...run.training, ...run.inference];
  const sites = siteNames(params);
  const startMs = runStartMs(tasks);
  const qcSite = sites.get(params.endpoints.qc) ?? params.endpoints.qc;
  const curves = [
    ...searchCurve(runLabel(run), run.progress),
    ...(random ? searchCurve(runLabel(random), random.progress) : []),
  ];
  const samples = stageSamples(tasks);
  const summaries = summarizeStages(samples);
  const top = topMolecules(run.molecules, run.progress, 20);
  const last = run.progress.at(-1);
  const failed = tasks.filter((t) => !t.ok).length;
  const fetchRecorded = tasks.some((t) => t.valueFetchMs !== undefined);

  const lead = [
    `${last?.simulated ?? 0} molecules simulated (${last?.failed ?? 0} simulations failed) in ${minutes(last?.elapsedMs ?? 0)}`,
    `${last?.foundAboveThreshold ?? 0} with IP >= ${params.thresholdEv} eV`,
    `best IP ${last?.bestIpEv?.toFixed(3) ?? "none"} eV`,
    `${last?.updates ?? 0} model updates`,
    `${run.simulations.length} simulate, ${run.training.length} train and ${run.inference.length} infer tasks (${failed} failed)`,
    `policy ${params.policy}`,
  ]
    .map(escapeHtml)
    .join("; ");

  return {
    title: `IP campaign report: ${basename(run.dir)}`,
    lead: `${lead}.`,
    sections: [
      {
        title: "Search progress",
        charts: [
          {
            id: "chart-search-simulations",
            title: "Against simulations done.",
            note: random
              ? "This run beside the random-selection run: the gap is what the surrogate buys."
              : "Pass --random <runDir> to draw a random-selection run beside it.",
            spec: curvesSpec(curves, "simulated", params.thresholdEv),
          },
          {
            id: "chart-search-time",
            title: "Against wall time.",
            note: "Minutes since the campaign started.",
            spec: curvesSpec(curves, "elapsedMin", params.thresholdEv),
          },
        ],
      },
      {
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
      },
      {
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
      },
      {
        title: "Top molecules",
        charts: [],
        html: htmlTable(
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
      },
      {
        title: "Run parameters",
        charts: [],
        html:
          `<pre id="run-params">${escapeHtml(JSON.stringify(params, null, 2))}</pre>` +
          (run.environment
            ? `<h3>Environment</h3><pre>${escapeHtml(JSON.stringify(run.environment, null, 2))}</pre>`
            : ""),
      },
    ],
  };
}

function minutes(elapsedMs: number): string {
  return elapsedMs < 120_000
    ? `${(elapsedMs / 1000).toFixed(1)} s`
    : `${(elapsedMs / 60_000).toFixed(1)} min`;
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(0);
}
