// The report's surrogate sections: how good the model's predictions were, the failed
// simulations, and drawings of the best molecules.
import { escapeHtml, htmlTable, type Section } from "./html.ts";
import type { RunData } from "./load.ts";
import type { TopMolecule } from "./series.ts";
import { accuracyPerUpdate, failedSimulations, parityPoints } from "./surrogate.ts";
import { accuracySpec, paritySpec } from "./surrogate-specs.ts";

/** Predicted against simulated IP, and each update's error and calibration. */
export function surrogateSection(run: RunData): Section {
  const points = parityPoints(run.simulations);
  if (points.length === 0) {
    return {
      title: "Surrogate",
      charts: [],
      html: `<p id="surrogate-none">${escapeHtml(
        "No simulation of this run recorded the prediction that chose it (runs before predictions were recorded, or none finished after the first model update).",
      )}</p>`,
    };
  }
  const accuracy = accuracyPerUpdate(points);
  const percent = (share: number) => `${(share * 100).toFixed(0)} %`;
  return {
    title: "Surrogate",
    charts: [
      {
        id: "chart-parity",
        title: "Predicted against simulated IP.",
        note: "Each molecule when it was simulated: the ensemble's mean (bar: one std) from the model update that chose it, against the IP the simulation gave. On the dashed diagonal the prediction was right.",
        spec: paritySpec(points),
      },
      {
        id: "chart-calibration",
        title: "Error and calibration per model update.",
        note: "Over the molecules each update chose: mean absolute error, and the share whose error was within one and two predicted std (dashed: 68 % and 95 %, what a calibrated Gaussian spread gives). Below the dashed line the model was over-confident.",
        spec: accuracySpec(accuracy),
      },
    ],
    html: htmlTable(
      "surrogate-accuracy",
      ["model update", "molecules", "MAE (eV)", "mean std (eV)", "within 1 std", "within 2 std"],
      accuracy.map((a) => [
        String(a.update),
        String(a.molecules),
        a.maeEv.toFixed(3),
        a.meanStdEv.toFixed(3),
        percent(a.withinOneStd),
        percent(a.withinTwoStd),
      ]),
    ),
  };
}

/** Every simulation that gave no IP, with its reason (they did not enter training). */
export function failedSection(run: RunData): Section {
  const failed = failedSimulations(run.simulations);
  return {
    title: "Failed simulations",
    charts: [],
    html:
      failed.length === 0
        ? `<p id="failed-none">No simulation failed.</p>`
        : `<p>${escapeHtml(
            `${failed.length} simulations gave no IP and were left out of training. A relaxation that broke or formed a bond is one: its energy is another molecule's.`,
          )}</p>` +
          htmlTable(
            "failed-simulations",
            ["SMILES", "reason"],
            failed.map((f) => [f.smiles, f.reason]),
            [0, 1],
          ),
  };
}

/** RDKit drawings of the top molecules, with rank, SMILES and IP under each. */
export function moleculeGallery(
  top: readonly TopMolecule[],
  drawings: ReadonlyMap<string, string>,
): string {
  const figures = top.flatMap((m) => {
    const svg = drawings.get(m.smiles);
    if (svg === undefined) return [];
    const caption = `#${m.rank} ${m.smiles} ${m.ipEv.toFixed(3)} eV`;
    return [
      `<figure class="molecule">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`,
    ];
  });
  return figures.length === 0
    ? ""
    : `<div id="top-drawings" class="molecules">${figures.join("")}</div>`;
}
