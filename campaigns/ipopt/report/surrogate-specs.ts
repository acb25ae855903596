// Vega-Lite specifications of the surrogate's charts: predicted against simulated IP, and each
// model update's error and uncertainty calibration.
import type { ChartSpec } from "./specs.ts";
import type { ParityPoint, UpdateAccuracy } from "./surrogate.ts";

const SIZE = 380;

/**
 * Predicted (ensemble mean, with its one-std bar) against simulated IP, coloured by the model
 * update that chose the molecule; the diagonal is a perfect prediction.
 */
export function paritySpec(points: readonly ParityPoint[]): ChartSpec {
  const values = points.map((p) => ({
    ...p,
    lowEv: p.predictedEv - p.stdEv,
    highEv: p.predictedEv + p.stdEv,
  }));
  const all = values.flatMap((p) => [p.lowEv, p.highEv, p.simulatedEv]);
  const lo = Math.floor(Math.min(...all, Number.POSITIVE_INFINITY));
  const hi = Math.ceil(Math.max(...all, Number.NEGATIVE_INFINITY));
  const domain = Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : [0, 1];
  const x = { type: "quantitative", title: "predicted IP (eV)", scale: { domain, zero: false } };
  const y = {
    field: "simulatedEv",
    type: "quantitative",
    title: "simulated IP (eV)",
    scale: { domain, zero: false },
  };
  const color = {
    field: "update",
    type: "ordinal",
    title: "model update",
    scale: { scheme: "viridis" },
  };
  return {
    width: SIZE,
    height: SIZE,
    layer: [
      {
        data: { values: domain.map((v) => ({ predictedEv: v, simulatedEv: v })) },
        mark: { type: "line", color: "#aaa", strokeDash: [4, 3] },
        encoding: { x: { ...x, field: "predictedEv" }, y },
      },
      {
        data: { values },
        mark: { type: "rule", opacity: 0.5 },
        encoding: { x: { ...x, field: "lowEv" }, x2: { field: "highEv" }, y, color },
      },
      {
        data: { values },
        mark: { type: "point", filled: true, size: 45 },
        encoding: {
          x: { ...x, field: "predictedEv" },
          y,
          color,
          tooltip: [
            { field: "smiles", title: "SMILES" },
            { field: "update", title: "update" },
            { field: "predictedEv", title: "predicted (eV)", format: ".3f" },
            { field: "stdEv", title: "std (eV)", format: ".3f" },
            { field: "simulatedEv", title: "simulated (eV)", format: ".3f" },
          ],
        },
      },
    ],
  };
}

/**
 * Per model update: mean absolute error (left), and the share of molecules whose error was
 * within one and two predicted std (right), against the 68 % and 95 % of a calibrated spread.
 */
export function accuracySpec(rows: readonly UpdateAccuracy[]): ChartSpec {
  const x = { field: "update", type: "ordinal", title: "model update" };
  return { hconcat: [maePanel(rows, x), coveragePanel(rows, x)] };
}

/** Mean absolute error per update. */
function maePanel(rows: readonly UpdateAccuracy[], x: ChartSpec): ChartSpec {
  return {
    width: SIZE * 0.8,
    height: 220,
    data: { values: rows },
    mark: { type: "line", point: true },
    encoding: {
      x,
      y: { field: "maeEv", type: "quantitative", title: "mean |error| (eV)" },
      tooltip: [
        { field: "update" },
        { field: "molecules" },
        { field: "maeEv", title: "MAE (eV)", format: ".3f" },
        { field: "meanStdEv", title: "mean std (eV)", format: ".3f" },
      ],
    },
  };
}

/** The share within one and two predicted std per update, with a calibrated spread's as rules. */
function coveragePanel(rows: readonly UpdateAccuracy[], x: ChartSpec): ChartSpec {
  const coverage = rows.flatMap((r) => [
    { update: r.update, band: "|error| <= 1 std", share: r.withinOneStd, molecules: r.molecules },
    { update: r.update, band: "|error| <= 2 std", share: r.withinTwoStd, molecules: r.molecules },
  ]);
  const ideal = [
    { band: "|error| <= 1 std", share: 0.6827 },
    { band: "|error| <= 2 std", share: 0.9545 },
  ];
  const band = {
    field: "band",
    type: "nominal",
    title: "share of molecules",
    scale: { domain: ideal.map((i) => i.band), range: ["#4c78a8", "#f58518"] },
    legend: { orient: "bottom" },
  };
  const share = {
    field: "share",
    type: "quantitative",
    title: "share within the band",
    axis: { format: "%" },
    scale: { domain: [0, 1] },
  };
  const tooltip = [
    { field: "update" },
    { field: "band" },
    { field: "share", format: ".0%" },
    { field: "molecules" },
  ];
  return {
    width: SIZE * 0.8,
    height: 220,
    layer: [
      {
        data: { values: coverage },
        mark: { type: "line", point: true },
        encoding: { x, y: share, color: band, tooltip },
      },
      {
        data: { values: ideal },
        mark: { type: "rule", strokeDash: [4, 3] },
        encoding: { y: { field: "share", type: "quantitative" }, color: band },
      },
    ],
  };
}
