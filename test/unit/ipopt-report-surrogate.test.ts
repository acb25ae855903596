// The report's surrogate part on hand-made records: predicted vs simulated, per-update error and
// calibration, failures with reasons, the training-set baseline, RDKit drawings; and the
// campaign state that records the prediction when it hands a molecule out.
import { describe, expect, it } from "vitest";
import {
  accuracyPerUpdate,
  buildPage,
  drawMolecules,
  failedSimulations,
  parityPoints,
} from "../../campaigns/ipopt/report/index.ts";
import type { RunData, SimulationRecord } from "../../campaigns/ipopt/report/load.ts";
import { curvesSpec } from "../../campaigns/ipopt/report/specs.ts";
import { accuracySpec, paritySpec } from "../../campaigns/ipopt/report/surrogate-specs.ts";
import { trainingSetSummary } from "../../campaigns/ipopt/run/records.ts";
import { SearchState } from "../../campaigns/ipopt/run/state.ts";

function sim(
  smiles: string,
  ipEv: number | null,
  predicted: SimulationRecord["predicted"],
  extra: Partial<SimulationRecord> = {},
): SimulationRecord {
  return {
    taskId: `t-${smiles}`,
    topic: "simulate",
    ok: true,
    error: null,
    attempt: 1,
    timings: { created: 1_000, sent: 1_000, started: 1_100, ended: 2_000, resultReceived: 2_100 },
    worker: { endpointId: "qc", host: "h", pid: 1 },
    smiles,
    ipEv,
    predicted,
    ...extra,
  };
}

const simulations: SimulationRecord[] = [
  sim("CC", 12, { meanEv: 11, stdEv: 0.5, update: 1 }), // error 1, outside 1 std, inside 2
  sim("CO", 13, { meanEv: 12.8, stdEv: 0.5, update: 1 }), // error 0.2, inside
  sim("CN", 14, { meanEv: 14.1, stdEv: 0.2, update: 2 }), // error -0.1, inside
  sim("C=O", 10, null), // chosen before any model scored it: not on the plot
  sim(
    "COC1(N)C2=NNN1C2",
    null,
    { meanEv: 12, stdEv: 1, update: 2 },
    {
      failure: "cation relaxation broke the C3-N8 bond (rings 2 -> 1)",
    },
  ),
  sim("C#N", null, undefined, {
    ok: false,
    error: { type: "TaskTimeoutError", message: "xtb ran past its walltime\nstack" },
  }),
];

describe("surrogate series", () => {
  it("pairs each prediction with its simulated IP, leaving out unscored and failed ones", () => {
    const points = parityPoints(simulations);
    expect(points.map((p) => p.smiles)).toEqual(["CC", "CO", "CN"]);
    expect(points[0]).toMatchObject({ update: 1, predictedEv: 11, simulatedEv: 12, errorEv: 1 });
    expect(points.map((p) => p.withinStd)).toEqual([false, true, true]);
  });

  it("gives each update's MAE and the share within one and two std", () => {
    const rows = accuracyPerUpdate(parityPoints(simulations));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ update: 1, molecules: 2, withinOneStd: 0.5, withinTwoStd: 1 });
    expect(rows[0]?.maeEv).toBeCloseTo(0.6, 10);
    expect(rows[1]).toMatchObject({ update: 2, molecules: 1, withinOneStd: 1 });
    expect(rows[1]?.maeEv).toBeCloseTo(0.1, 10);
  });

  it("lists failed simulations with the recorded reason, else the task's first error line", () => {
    expect(failedSimulations(simulations)).toEqual([
      {
        smiles: "COC1(N)C2=NNN1C2",
        reason: "cation relaxation broke the C3-N8 bond (rings 2 -> 1)",
      },
      { smiles: "C#N", reason: "TaskTimeoutError: xtb ran past its walltime" },
    ]);
  });
});

describe("surrogate charts", () => {
  it("carry the points, their bars and the diagonal", () => {
    const spec = paritySpec(parityPoints(simulations)) as {
      layer: { data: { values: Record<string, number>[] } }[];
    };
    const [diagonal, bars, points] = spec.layer;
    expect(points?.data.values).toHaveLength(3);
    expect(bars?.data.values[0]).toMatchObject({ lowEv: 10.5, highEv: 11.5 });
    expect(diagonal?.data.values).toEqual([
      { predictedEv: 10, simulatedEv: 10 },
      { predictedEv: 15, simulatedEv: 15 },
    ]);
  });

  it("draw MAE per update and both calibration bands", () => {
    const spec = accuracySpec(accuracyPerUpdate(parityPoints(simulations))) as {
      hconcat: [{ data: { values: unknown[] } }, { layer: { data: { values: unknown[] } }[] }];
    };
    expect(spec.hconcat[0].data.values).toHaveLength(2);
    expect(spec.hconcat[1].layer[0]?.data.values).toHaveLength(4);
  });

  it("put a rule at the training set's best IP on the best-IP panel", () => {
    const curve = [{ run: "r", simulated: 1, elapsedMin: 1, found: 0, bestIpEv: 12 }];
    const spec = curvesSpec(curve, "simulated", 14, 13.5) as { hconcat: unknown[] };
    const best = spec.hconcat[1] as { layer: { mark: { type: string }; data?: unknown }[] };
    expect(best.layer.map((l) => l.mark.type)).toEqual(["line", "rule", "text"]);
    expect(best.layer[1]?.data).toEqual({
      values: [{ baselineEv: 13.5, label: "training set best 13.50 eV" }],
    });
    expect(
      (curvesSpec(curve, "simulated", 14) as { hconcat: object[] }).hconcat[1],
    ).not.toHaveProperty("layer");
  });
});

describe("report page", () => {
  const run: RunData = {
    dir: "/runs/demo",
    params: {
      name: "demo",
      policy: "ucb",
      qcEndpoint: "cpu",
      mlEndpoint: "gpu",
      numQcWorkers: 2,
      searchSize: 4,
      thresholdEv: 14,
      endpoints: { qc: "qc", ml: "ml" },
    },
    trainingSet: { molecules: 3, bestIpEv: 13.2, bestSmiles: "OC(F)F" },
    environment: undefined,
    progress: [
      {
        simulated: 1,
        failed: 0,
        searchSize: 4,
        bestIpEv: 12,
        foundAboveThreshold: 0,
        elapsedMs: 10,
        updates: 1,
      },
      {
        simulated: 2,
        failed: 0,
        searchSize: 4,
        bestIpEv: 13,
        foundAboveThreshold: 0,
        elapsedMs: 20,
        updates: 1,
      },
      {
        simulated: 3,
        failed: 0,
        searchSize: 4,
        bestIpEv: 14,
        foundAboveThreshold: 1,
        elapsedMs: 30,
        updates: 2,
      },
    ],
    molecules: [
      { index: 1, smiles: "CC", ipEv: 12 },
      { index: 2, smiles: "CO", ipEv: 13 },
      { index: 3, smiles: "CN", ipEv: 14 },
    ],
    simulations,
    training: [],
    inference: [],
  };

  it("has the parity and calibration charts, the failures, the baseline and the drawings", async () => {
    const drawings = await drawMolecules(run.molecules.map((m) => m.smiles));
    expect(drawings.get("CN")).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const page = buildPage(run, undefined, drawings);
    const section = (title: string) => page.sections.find((s) => s.title === title);
    const charts = section("Surrogate")?.charts.map((c) => c.id);
    expect(charts).toEqual(["chart-parity", "chart-calibration"]);
    expect(section("Surrogate")?.html).toContain('id="surrogate-accuracy"');
    expect(section("Failed simulations")?.html).toContain("broke the C3-N8 bond");
    const top = section("Top molecules")?.html ?? "";
    expect(top.match(/<figure class="molecule"><svg/g)).toHaveLength(3);
    expect(top).not.toContain("<?xml");
    expect(JSON.stringify(section("Search progress")?.charts[0]?.spec)).toContain(
      "training set best 13.20 eV",
    );
  });

  it("says so when no simulation recorded a prediction", () => {
    const old = { ...run, simulations: simulations.map((s) => ({ ...s, predicted: undefined })) };
    const surrogate = buildPage(old).sections.find((s) => s.title === "Surrogate");
    expect(surrogate?.charts).toEqual([]);
    expect(surrogate?.html).toContain('id="surrogate-none"');
  });
});

describe("campaign records", () => {
  it("remember the prediction of the update whose ranking chose a molecule", () => {
    const state = new SearchState({
      space: ["CC", "CO", "CN"],
      trainingSet: [{ smiles: "C", ip: 13 }],
      startedMs: 0,
      searchSize: 3,
      thresholdEv: 14,
    });
    expect(state.claimNext()).toBeUndefined(); // nothing ranked yet
    state.setScores(1, {
      mean: Float64Array.from([11, 12, Number.NaN]),
      std: Float64Array.from([0.1, 0.2, 0]),
    });
    state.refill([1, 2, 0]);
    expect(state.claimNext()).toBe("CO");
    expect(state.claimNext()).toBe("CN");
    expect(state.predictionOf("CO")).toEqual({ meanEv: 12, stdEv: 0.2, update: 1 });
    expect(state.predictionOf("CN")).toBeUndefined(); // that model scored it NaN
  });

  it("summarize the training set for the report's baseline", () => {
    expect(
      trainingSetSummary([
        { smiles: "C", ip: 13 },
        { smiles: "O", ip: 14.5 },
      ]),
    ).toEqual({
      molecules: 2,
      bestIpEv: 14.5,
      bestSmiles: "O",
    });
    expect(trainingSetSummary([])).toEqual({ molecules: 0, bestIpEv: null, bestSmiles: null });
  });
});
