// A run directory -> report.html: load, transform, lay out. `ferry campaign report` and the
// demo call writeReport.
import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { costSections } from "./cost-section.ts";
import { drawMolecules } from "./drawings.ts";
import { escapeHtml, type Page, readChartLibraries, renderPage } from "./html.ts";
import { loadRun, type RunData, type TaskRecord } from "./load.ts";
import {
  DRAWN_MOLECULES,
  minutes,
  overheadSection,
  parametersSection,
  searchSection,
  timelineSection,
  topMoleculesSection,
} from "./sections.ts";
import { searchCurve, stageSamples, summarizeStages, topMolecules } from "./series.ts";
import { failedSection, surrogateSection } from "./surrogate-sections.ts";

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
  const top = topMolecules(run.molecules, run.progress, DRAWN_MOLECULES);
  const drawings = await drawMolecules(top.map((m) => m.smiles));
  const page = buildPage(run, random, drawings);
  page.sections.splice(-1, 0, ...(await costSections(options.runDir))); // before the parameters
  const html = renderPage(page, await readChartLibraries());
  const out = options.out ?? join(options.runDir, "report.html");
  await writeFile(out, html);
  return out;
}

const runLabel = (run: RunData) => `${run.params.policy}: ${basename(run.dir)}`;

/**
 * The report's page: a one-paragraph lead, then search, surrogate, timeline, overheads,
 * molecules (drawn from `drawings`, SMILES -> SVG), failures, parameters.
 */
export function buildPage(
  run: RunData,
  random?: RunData,
  drawings: ReadonlyMap<string, string> = new Map(),
): Page {
  const tasks = [...run.simulations, ...run.training, ...run.inference];
  const curves = [
    ...searchCurve(runLabel(run), run.progress),
    ...(random ? searchCurve(runLabel(random), random.progress) : []),
  ];
  const samples = stageSamples(tasks);
  const fetchRecorded = tasks.some((t) => t.valueFetchMs !== undefined);
  return {
    title: `IP campaign report: ${basename(run.dir)}`,
    lead: `${leadOf(run, tasks)}.`,
    sections: [
      searchSection(
        run.params,
        curves,
        random !== undefined,
        run.trainingSet?.bestIpEv ?? undefined,
      ),
      surrogateSection(run),
      timelineSection(run.params, tasks),
      overheadSection(summarizeStages(samples), samples, fetchRecorded),
      topMoleculesSection(run, drawings),
      failedSection(run),
      parametersSection(run),
    ],
  };
}

/** The run in one escaped sentence: simulations, finds, best IP, updates, tasks, policy. */
function leadOf(run: RunData, tasks: readonly TaskRecord[]): string {
  const last = run.progress.at(-1);
  const failed = tasks.filter((t) => !t.ok).length;
  return [
    `${last?.simulated ?? 0} molecules simulated (${last?.failed ?? 0} simulations failed) in ${minutes(last?.elapsedMs ?? 0)}`,
    `${last?.foundAboveThreshold ?? 0} with IP >= ${run.params.thresholdEv} eV`,
    `best IP ${last?.bestIpEv?.toFixed(3) ?? "none"} eV`,
    `${last?.updates ?? 0} model updates`,
    `${run.simulations.length} simulate, ${run.training.length} train and ${run.inference.length} infer tasks (${failed} failed)`,
    `policy ${run.params.policy}`,
  ]
    .map(escapeHtml)
    .join("; ");
}
