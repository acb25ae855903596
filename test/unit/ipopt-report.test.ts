// The report's pure transforms on hand-made records, and its loader's one-line errors.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, NotFoundError } from "#core/errors.ts";
import { inlineJson, inlineScript } from "../../campaigns/ipopt/report/html.ts";
import {
  ganttBars,
  loadRun,
  quantile,
  runStartMs,
  searchCurve,
  siteNames,
  stageSamples,
  summarizeStages,
  topMolecules,
  utilization,
} from "../../campaigns/ipopt/report/index.ts";
import type { RunParams, TaskRecord } from "../../campaigns/ipopt/report/load.ts";

const QC = "qc-uuid";
const ML = "ml-uuid";

const params = (ml = ML): RunParams => ({
  name: "t",
  policy: "ucb",
  qcEndpoint: "cpu",
  mlEndpoint: ml === QC ? "cpu" : "gpu",
  numQcWorkers: 2,
  searchSize: 4,
  thresholdEv: 14,
  endpoints: { qc: QC, ml },
});

function task(
  topic: string,
  endpointId: string,
  pid: number,
  t: Partial<TaskRecord["timings"]>,
  extra: Partial<TaskRecord> = {},
): TaskRecord {
  return {
    taskId: `${topic}-${pid}-${t.started ?? t.created}`,
    topic,
    ok: true,
    error: null,
    attempt: 1,
    timings: { created: 1_000, sent: 1_000, ...t },
    worker: { endpointId, host: "h", pid },
    ...extra,
  };
}

describe("search curves", () => {
  it("start at zero and follow progress.jsonl, best IP null until the first success", () => {
    const curve = searchCurve("ucb", [
      {
        simulated: 0,
        failed: 1,
        searchSize: 2,
        foundAboveThreshold: 0,
        elapsedMs: 30_000,
        updates: 1,
      },
      {
        simulated: 1,
        failed: 1,
        searchSize: 2,
        bestIpEv: 14.5,
        foundAboveThreshold: 1,
        elapsedMs: 90_000,
        updates: 1,
      },
    ]);
    expect(curve).toEqual([
      { run: "ucb", simulated: 0, elapsedMin: 0, found: 0, bestIpEv: null },
      { run: "ucb", simulated: 0, elapsedMin: 0.5, found: 0, bestIpEv: null },
      { run: "ucb", simulated: 1, elapsedMin: 1.5, found: 1, bestIpEv: 14.5 },
    ]);
  });
});

describe("sites and timelines", () => {
  it("names two sites by role, and one site once when qc and ml are the same endpoint", () => {
    expect([...siteNames(params()).values()]).toEqual(["cpu (simulate)", "gpu (train, infer)"]);
    expect([...siteNames(params(QC)).values()]).toEqual(["cpu (simulate, train, infer)"]);
  });

  it("puts each task on its worker from start to end, and a failure before running on received..resultSent", () => {
    const sites = siteNames(params());
    const tasks = [
      task("simulate", QC, 11, { created: 1_000, started: 3_000, ended: 5_000 }),
      task("train", ML, 22, { created: 2_000, started: 2_500, ended: 9_000 }),
      task(
        "simulate",
        QC,
        12,
        { created: 4_000, received: 4_100, resultSent: 4_600 },
        { ok: false, error: { type: "WorkerCrashed", message: "x" } },
      ),
      task("simulate", QC, 13, { created: 4_000 }, { ok: false }), // nothing to draw
    ];
    const start = runStartMs(tasks);
    expect(start).toBe(1_000);
    const bars = ganttBars(tasks, sites, start);
    expect(bars.map((b) => [b.site, b.worker, b.topic, b.ok, b.startS, b.endS])).toEqual([
      ["cpu (simulate)", "h:11", "simulate", true, 2, 4],
      ["gpu (train, infer)", "h:22", "train", true, 1.5, 8],
      ["cpu (simulate)", "h:12", "simulate", false, 3.1, 3.6],
    ]);
  });

  it("counts busy workers per site, a hand-over at one instant not as two", () => {
    const sites = siteNames(params());
    const tasks = [
      task("simulate", QC, 1, { started: 1_000, ended: 3_000 }),
      task("simulate", QC, 2, { started: 2_000, ended: 4_000 }),
      task("simulate", QC, 1, { started: 3_000, ended: 5_000 }), // same instant as the first ends
      task("train", ML, 3, { started: 2_000, ended: 6_000 }),
      task("simulate", QC, 4, { received: 2_000 }, { ok: false }), // never ran: not busy
    ];
    const points = utilization(tasks, sites, 0, new Map([["cpu (simulate)", 4]]));
    const cpu = points.filter((p) => p.site === "cpu (simulate)");
    expect(cpu.map((p) => [p.timeS, p.busy])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 1],
      [5, 0],
    ]);
    // At least num-qc-workers even though only 2 ran at once.
    expect(cpu.every((p) => p.workers === 4)).toBe(true);
    expect(cpu[2]?.utilization).toBe(0.5);
    const gpu = points.filter((p) => p.site === "gpu (train, infer)");
    expect(gpu.map((p) => p.utilization)).toEqual([0, 1, 0]);
  });
});

describe("overheads", () => {
  const full = {
    created: 0,
    sent: 10,
    received: 30,
    inputsResolved: 45,
    started: 145,
    ended: 1_145,
    resultSent: 1_170,
    resultReceived: 1_200,
    storeMs: 3,
  };

  it("splits a task's life into the seed paper's stages", () => {
    const samples = stageSamples([task("infer", ML, 1, full, { valueFetchMs: 7 })]);
    expect(Object.fromEntries(samples.map((s) => [s.stage, s.ms]))).toEqual({
      "queue wait": 20,
      "input resolution": 15,
      "worker dispatch": 100,
      "run time": 1_000,
      "result notification": 55,
      "data access": 10,
    });
  });

  it("leaves out stages whose timestamps are missing, and data access of failures", () => {
    const failed = task(
      "simulate",
      QC,
      1,
      { created: 0, sent: 10, received: 30, resultSent: 90, resultReceived: 100, storeMs: 0 },
      { ok: false },
    );
    const stages = stageSamples([failed]).map((s) => s.stage);
    expect(stages).toEqual(["queue wait"]);
    // An old run without valueFetchMs still has the agent's store time.
    const old = stageSamples([task("train", ML, 1, full)]).find((s) => s.stage === "data access");
    expect(old?.ms).toBe(3);
  });

  it("summarizes medians, means and p90 per topic in a stable order", () => {
    const tasks = [100, 200, 300, 400, 1_000].map((run, i) =>
      task("simulate", QC, i, { ...full, ended: full.started + run }),
    );
    tasks.push(task("train", ML, 9, full));
    const summary = summarizeStages(stageSamples(tasks)).filter((s) => s.stage === "run time");
    expect(summary.map((s) => s.topic)).toEqual(["simulate", "train"]);
    expect(summary[0]).toMatchObject({ count: 5, medianMs: 300, meanMs: 400, p90Ms: 760 });
  });

  it("interpolates quantiles between order statistics", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([5], 0.9)).toBe(5);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe("top molecules", () => {
  it("ranks by IP and says when each was found", () => {
    const molecules = [
      { index: 1, smiles: "C", ipEv: 12 },
      { index: 2, smiles: "CO", ipEv: 15 },
      { index: 3, smiles: "CF", ipEv: 14 },
    ];
    const progress = [1, 1, 2, 3].map((simulated, i) => ({
      simulated,
      failed: i === 1 ? 1 : 0,
      searchSize: 3,
      foundAboveThreshold: 0,
      elapsedMs: (i + 1) * 1_000,
      updates: 0,
    }));
    expect(topMolecules(molecules, progress, 2)).toEqual([
      { rank: 1, smiles: "CO", ipEv: 15, simulation: 2, elapsedMs: 3_000 },
      { rank: 2, smiles: "CF", ipEv: 14, simulation: 3, elapsedMs: 4_000 },
    ]);
  });
});

describe("inlining", () => {
  it("never lets code or data close the script element", () => {
    expect(inlineScript('a="</script>";b="</SCRIPT"')).toBe('a="<\\/script>";b="<\\/SCRIPT"');
    expect(inlineScript("x();\n//# sourceMappingURL=x.js.map\n")).toBe("x();\n\n");
    const json = inlineJson({ smiles: "</script><b>" });
    expect(json).not.toContain("<");
    expect(JSON.parse(json)).toEqual({ smiles: "</script><b>" });
  });
});

describe("loading a run directory", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("says what is missing, and which line is wrong", async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-report-"));
    await expect(loadRun(join(dir, "nope"))).rejects.toThrow(NotFoundError);
    await expect(loadRun(dir)).rejects.toThrow(
      `run directory ${dir} has no progress.jsonl: is it a ferry campaign run directory?`,
    );
    await writeFile(join(dir, "progress.jsonl"), '{"simulated": 1}\n');
    await writeFile(join(dir, "run_params.json"), JSON.stringify(params()));
    await writeFile(join(dir, "molecules.csv"), "index,smiles,ip_ev\n");
    await writeFile(join(dir, "simulation-results.jsonl"), "");
    const error = await loadRun(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/progress\.jsonl line 1: failed: /);
  });
});
