// The campaign report: one self-contained HTML page from a run directory.

export { drawMolecules } from "./drawings.ts";
export { loadRun, type RunData } from "./load.ts";
export { buildPage, type ReportOptions, writeReport } from "./report.ts";
export {
  type CurvePoint,
  type GanttBar,
  ganttBars,
  quantile,
  runStartMs,
  STAGES,
  type Stage,
  type StageSample,
  type StageSummary,
  searchCurve,
  siteNames,
  stageSamples,
  summarizeStages,
  type TopMolecule,
  topMolecules,
  type UtilizationPoint,
  utilization,
} from "./series.ts";
export {
  accuracyPerUpdate,
  type FailedSimulation,
  failedSimulations,
  type ParityPoint,
  parityPoints,
  type UpdateAccuracy,
} from "./surrogate.ts";
