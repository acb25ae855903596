// `ferry campaign report` on a real run directory (a tiny campaign through the real path) and
// on fixtures derived from it (a failed simulation, one site for everything, a random run),
// each page opened in headless Chromium with the network cut off: it must draw every chart.
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointRecord } from "#core/protocol/index.ts";
import { type AgentProcess, spawnAgent } from "#local/index.ts";
import { ferryEnv, runFerry, runFerryJson } from "../helpers/ferry.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const CHARTS = [
  "chart-search-simulations",
  "chart-search-time",
  "chart-gantt",
  "chart-utilization",
  "chart-overheads",
  "chart-parity",
  "chart-calibration",
];

const suffix = Math.random().toString(36).slice(2, 8);
const agents: AgentProcess[] = [];
const endpoints: Record<"qc" | "ml", string> = { qc: "", ml: "" };
let outDir: string;
let runDir: string;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: run \`bash scripts/setup\` (it installs chromium)`);
  outDir = await mkdtemp(join(tmpdir(), "ferry-report-"));
  for (const role of ["qc", "ml"] as const) {
    const endpoint = await runFerryJson<EndpointRecord>([
      "endpoint",
      "register",
      `report-${role}-${suffix}`,
    ]);
    endpoints[role] = endpoint.endpointId;
    agents.push(spawnAgent({ endpointId: endpoint.endpointId, env: ferryEnv() }));
  }
  // The smallest campaign that still has two model updates' worth of train and infer tasks.
  const run = await runFerry(
    [
      ...["campaign", "run", "ipopt", "--qc-endpoint", endpoints.qc, "--ml-endpoint", endpoints.ml],
      ...["--num-qc-workers", "2", "--model-count", "2", "--search-space-limit", "200"],
      ...["--molecules-per-ml-task", "100", "--search-size", "4", "--retrain-frequency", "2"],
      ...["--name", "report", "--out", outDir],
    ],
    { timeoutMs: 240_000 },
  );
  expect(run.code, run.stderr).toBe(0);
  const [name] = await readdir(outDir);
  runDir = join(outDir, name ?? "");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
    ],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(agents.map((a) => a.stop(10_000)));
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

/** Opens a report offline; returns what the page drew and any error it logged. */
async function openReport(file: string, screenshot?: string) {
  if (!browser) throw new Error("no browser");
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  const blocked: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  // Anything but the file itself is refused: the page must need nothing from the network.
  await page.route("**", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:")) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  try {
    await page.goto(`file://${file}`);
    await page.waitForSelector("body[data-rendered]", { timeout: 30_000 });
    const rendered = await page.getAttribute("body", "data-rendered");
    const marks: Record<string, number> = {};
    for (const id of CHARTS)
      marks[id] = await page
        .locator(`#${id} svg .role-mark`)
        .locator("path, rect, circle, line")
        .count();
    const topRows = await page.locator("#top-molecules tbody tr").count();
    const drawings = await page.locator("#top-drawings figure svg").count();
    const failedRows = await page.locator("#failed-simulations tbody tr").count();
    const lead = (await page.locator(".lead").textContent()) ?? "";
    // Legends and facet headers are SVG text, which innerText may leave out.
    const chartText: Record<string, string> = {};
    for (const id of CHARTS) chartText[id] = (await page.locator(`#${id}`).textContent()) ?? "";
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { rendered, marks, topRows, drawings, failedRows, lead, chartText, errors, blocked };
  } finally {
    await page.close();
  }
}

const jsonLines = async (file: string) =>
  (await readFile(file, "utf8"))
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const writeLines = (file: string, rows: unknown[]) =>
  writeFile(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));

/** A copy of the real run with `edit` applied to it. */
async function derive(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(outDir, "derived", name);
  await cp(runDir, dir, { recursive: true });
  await rm(join(dir, "report.html"), { force: true });
  await edit(dir);
  return dir;
}

function expectDrawn(page: Awaited<ReturnType<typeof openReport>>) {
  expect(page.errors).toEqual([]);
  expect(page.blocked).toEqual([]);
  expect(page.rendered).toBe("ok");
  for (const id of CHARTS) expect(page.marks[id], id).toBeGreaterThan(0);
  expect(page.topRows).toBeGreaterThan(0);
  expect(page.drawings).toBe(Math.min(page.topRows, 10)); // RDKit's SVG of each top molecule
}

describe("ferry campaign report", () => {
  it("renders a real run, beside a random run, into one self-contained page", async () => {
    const random = await derive("random", async (dir) => {
      const params = JSON.parse(await readFile(join(dir, "run_params.json"), "utf8"));
      await writeFile(
        join(dir, "run_params.json"),
        JSON.stringify({ ...params, policy: "random" }),
      );
    });
    const cli = await runFerry(["campaign", "report", runDir, "--random", random]);
    expect(cli.code, cli.stderr).toBe(0);
    const file = join(runDir, "report.html");
    expect(cli.stdout.trim()).toBe(`report: ${file}`);
    const html = await readFile(file, "utf8");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/cdn/i);

    await mkdir(ARTIFACTS, { recursive: true });
    const page = await openReport(file, join(ARTIFACTS, "report.png"));
    expectDrawn(page);
    expect(page.chartText["chart-search-simulations"]).toContain("random: random");
    expect(page.chartText["chart-search-simulations"]).toContain("ucb: report-");
    expect(page.chartText["chart-gantt"]).toContain("(simulate)");
    expect(page.chartText["chart-gantt"]).toContain("(train, infer)");
    expect(page.chartText["chart-overheads"]).toContain("result notification");
    expect(page.topRows).toBe(4); // search-size molecules, all succeeded
    // The best-IP panel's rule at the training set's best (the run wrote training-set.json).
    expect(page.chartText["chart-search-simulations"]).toMatch(/training set best \d+\.\d\d eV/);
    // Every simulated molecule was chosen by a model update: one parity point each.
    const sims = await jsonLines(join(runDir, "simulation-results.jsonl"));
    expect(sims.filter((s) => s.predicted !== null && s.ipEv !== null)).toHaveLength(4);
    // A molecule of the space whose relaxation changed it is listed, with its reason.
    expect(page.failedRows).toBe(sims.filter((s) => s.ipEv === null).length);
    expect(page.chartText["chart-calibration"]).toContain("within");
  });

  it("renders runs with a failed simulation and with one site for everything", async () => {
    const failed = await derive("failed", async (dir) => {
      // A simulation the worker crashed on before running: no inputsResolved, started, ended.
      const file = join(dir, "simulation-results.jsonl");
      const [first, ...rest] = await jsonLines(file);
      const timings = Object.fromEntries(
        Object.entries(first?.timings as Record<string, number>).filter(
          ([k]) => !["inputsResolved", "started", "ended"].includes(k),
        ),
      );
      const crashed = {
        ...first,
        ok: false,
        error: { type: "WorkerCrashed", message: "worker exited with signal SIGKILL" },
        timings,
        ipEv: null,
        valueFetchMs: undefined,
        failure: undefined, // as a run before the field: the reason comes from the error
      };
      await writeLines(file, [crashed, ...rest]);
    });
    const single = await derive("single-site", async (dir) => {
      const params = JSON.parse(await readFile(join(dir, "run_params.json"), "utf8"));
      const qc: string = params.endpoints.qc;
      await writeFile(
        join(dir, "run_params.json"),
        JSON.stringify({ ...params, mlEndpoint: params.qcEndpoint, endpoints: { qc, ml: qc } }),
      );
      for (const f of ["training-results.jsonl", "inference-results.jsonl"]) {
        const rows = await jsonLines(join(dir, f));
        await writeLines(
          join(dir, f),
          rows.map((r) => ({ ...r, worker: { ...(r.worker as object), endpointId: qc } })),
        );
      }
    });
    for (const dir of [failed, single]) {
      const cli = await runFerry(["campaign", "report", dir]);
      expect(cli.code, cli.stderr).toBe(0);
    }
    const failedPage = await openReport(join(failed, "report.html"));
    expectDrawn(failedPage);
    expect(failedPage.lead).toMatch(/tasks \([1-9]\d* failed\)/);
    const failedSims = await jsonLines(join(failed, "simulation-results.jsonl"));
    expect(failedPage.failedRows).toBe(failedSims.filter((s) => s.ipEv === null).length);
    expect(await readFile(join(failed, "report.html"), "utf8")).toContain(
      "WorkerCrashed: worker exited with signal SIGKILL",
    );

    const singlePage = await openReport(join(single, "report.html"));
    expectDrawn(singlePage);
    expect(singlePage.chartText["chart-gantt"]).toContain("(simulate, train, infer)");
    expect(singlePage.chartText["chart-gantt"]).not.toContain("(train, infer)");
  });

  it("says clearly when the directory is not a run directory", async () => {
    const cli = await runFerry(["campaign", "report", outDir]);
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain("has no progress.jsonl: is it a ferry campaign run directory?");
  });
});
