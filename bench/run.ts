// Ferry's performance against its transport and against what users would pick instead.
//   npm run bench [-- --quick] [--trace runs/<dir>] [--only 1,2,3,4,5,6,7] [--profile <dir>]
//     [--deadline <minutes, default 10>]
// Starts its own local deployment and agents, prints a table of ratios and writes
// bench/results/<ISO date>.json. Absolute numbers are noisy on shared machines; ratios count.

import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { resolveStorePolicy } from "#core/store/index.ts";
import { executorFor } from "#sdk/index.ts";
import { benchArgs } from "./args.ts";
import type { BenchContext, BenchOutput } from "./context.ts";
import { startBenchDeployment } from "./deployment.ts";
import { benchFootprint } from "./footprint.ts";
import { benchLargeObjects, LARGE_TOPICS } from "./large-objects.ts";
import { benchLatency } from "./latency.ts";
import { benchOverheads } from "./overheads.ts";
import { benchRealism } from "./realism.ts";
import { formatTable, type Row, writeResults, writeRunResults } from "./report.ts";
import { benchScaleOut } from "./scale-out.ts";
import { benchThroughput } from "./throughput.ts";

const RESULTS_DIR = fileURLToPath(new URL("./results", import.meta.url));

const { values } = benchArgs("bench", "The options are listed at the top of bench/run.ts", {
  options: {
    quick: { type: "boolean", default: false },
    trace: { type: "string" },
    only: { type: "string", default: "1,2,3,4,5,6,7" },
    /** Minutes before a stuck (or very loaded) run gives up. */
    deadline: { type: "string", default: "10" },
    /** Directory for the agents' V8 CPU profiles (.cpuprofile), to see where a miss goes. */
    profile: { type: "string" },
  },
});
const quick = values.quick ?? false;
const only = new Set((values.only ?? "").split(","));
/** A run that has not finished by then is stuck: report what there is and fail. */
const DEADLINE_MS = Number(values.deadline) * 60_000;
const started = performance.now();
const log = (line: string) => console.error(line);
const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const loadAtStart = load();
log(
  `ferry bench${quick ? " --quick" : ""}: ${cpus().length} cores, load average ${loadAtStart.join(" ")}`,
);

const rows: Row[] = [];
const details: Record<string, unknown> = {};
const errors: string[] = [];
const deployment = await startBenchDeployment({ profileDir: values.profile });
const deadline = setTimeout(() => {
  console.error(`bench: over ${DEADLINE_MS / 60_000} minutes; stopping`);
  console.log(formatTable(rows));
  // The emulator runs detached: take it down too, but never wait long for it.
  setTimeout(() => process.exit(1), 15_000).unref();
  void writeResults(RESULTS_DIR, {
    partial: true,
    quick,
    loadAverage: { start: loadAtStart, end: load() },
    rows,
    details,
    errors,
  })
    .then((path) => console.log(`partial results: ${path}`))
    .then(() => deployment.stop())
    .finally(() => process.exit(1));
}, DEADLINE_MS);
deadline.unref();
log(`deployment up in ${((performance.now() - started) / 1000).toFixed(1)} s (${deployment.home})`);
try {
  const fileDir = join(deployment.home, "shared-store");
  const endpointId = await deployment.registerEndpoint("bench-main");
  const threshold = 10_000;
  await deployment.startAgent(endpointId, {
    workers: 8,
    storePolicies: {
      [LARGE_TOPICS.s3]: { backend: "s3", thresholdBytes: threshold },
      [LARGE_TOPICS.file]: { backend: "file", thresholdBytes: threshold, fileDir },
    },
    storeFileDir: fileDir,
  });
  const executor = executorFor(deployment.conn, {
    storePolicies: {
      [LARGE_TOPICS.s3]: resolveStorePolicy({ backend: "s3", thresholdBytes: threshold }),
      [LARGE_TOPICS.file]: resolveStorePolicy({
        backend: "file",
        thresholdBytes: threshold,
        fileDir,
      }),
    },
    fileDir,
  });
  const ctx: BenchContext = {
    deployment,
    executor,
    quick,
    endpointId,
    fileDir,
    samples: [],
    stages: {},
    log,
  };
  const benches: [string, string, () => Promise<BenchOutput>][] = [
    ["1", "no-op latency", () => benchLatency(ctx)],
    ["2", "throughput", () => benchThroughput(ctx)],
    ["3", "large objects", () => benchLargeObjects(ctx)],
    ["4", "scale-out", () => benchScaleOut(ctx)],
    ["5", "footprint", () => benchFootprint(ctx)],
    ["6", "campaign overheads", () => benchOverheads(ctx.samples, values.trace)],
    ["7", "through the AWS-realism proxies", () => benchRealism({ quick, log })],
  ];
  for (const [id, name, bench] of benches) {
    if (!only.has(id)) continue;
    const t0 = performance.now();
    log(`${id}. ${name}...`);
    try {
      const out = await bench();
      rows.push(...out.rows);
      details[`${id}. ${name}`] = { ...out.details, wallS: (performance.now() - t0) / 1000 };
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      errors.push(`${id}. ${name}: ${message}`);
      log(`${id}. ${name} FAILED: ${message}`);
    }
    log(`${id}. ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await executor.close({ closeSession: true });
} finally {
  await deployment.stop();
}

const loadAtEnd = load();
const wallS = (performance.now() - started) / 1000;
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
console.log(
  `\n${command}   (${wallS.toFixed(0)} s; ${cpus().length} cores; load average at start ${loadAtStart.join(" ")}, at end ${loadAtEnd.join(" ")})`,
);
console.log(formatTable(rows));
const missed = rows.filter((r) => r.met === false).map((r) => `${r.benchmark} ${r.what}`);
if (missed.length > 0) console.log(`\ntargets missed: ${missed.join("; ")}`);
const path = await writeRunResults(RESULTS_DIR, {
  command,
  quick,
  wallS,
  loadAverage: { start: loadAtStart, end: loadAtEnd },
  rows,
  details,
  errors,
});
console.log(`results: ${path}`);
if (errors.length > 0) {
  console.error(`bench: ${errors.length} benchmark(s) failed`);
  process.exit(1);
}
process.exit(0);
