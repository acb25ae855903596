// Ferry beside the systems its users would otherwise pick: Dask distributed, and Celery with
// Redis, at the same worker counts, with the same no-op, in one run on one machine (issue #17).
//   npm run bench:peers [-- --quick] [--workers 2,4] [--no-raw] [--deadline <minutes, default 10>]
// Installs the peers from Debian's packages when they are missing (install.sh), starts its own
// local deployment, and beside the peers runs bench rows 1 and 2 (the raw two-queue round trip
// and the sqs-consumer echo). Prints a table of Ferry's ratio to each and writes
// bench/results/peers-<ISO date>.json. It asserts nothing: a missed target exits 0, a peer that
// cannot be installed or started exits 1 with a one-line error.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { executorFor } from "#sdk/index.ts";
import type { BenchContext, BenchOutput } from "../context.ts";
import { type BenchDeployment, startBenchDeployment } from "../deployment.ts";
import { benchLatency } from "../latency.ts";
import { formatTable, type Row, writeRunResults } from "../report.ts";
import { medianStages } from "../stages.ts";
import { benchThroughput } from "../throughput.ts";
import { startCelery } from "./celery.ts";
import { startDask } from "./dask.ts";
import { startFerry } from "./ferry.ts";
import { measurePeers, type Sizes } from "./measure.ts";
import type { Peer } from "./peer.ts";
import { killAllGroups, PEERS_DIR, PeerStartError } from "./processes.ts";
import { peerRows } from "./rows.ts";

const RESULTS_DIR = fileURLToPath(new URL("../results", import.meta.url));
const { values } = parseArgs({
  allowNegative: true,
  options: {
    quick: { type: "boolean", default: false },
    workers: { type: "string", default: "2,4" },
    /** Bench rows 1 and 2 (raw two-queue round trip, sqs-consumer echo); --no-raw skips them. */
    raw: { type: "boolean", default: true },
    deadline: { type: "string", default: "10" },
  },
});
const quick = values.quick ?? false;
const workerCounts = (values.workers ?? "").split(",").map(Number);
if (!workerCounts.every((n) => Number.isInteger(n) && n > 0)) {
  console.error(`bench:peers: --workers wants positive integers, e.g. 2,4 (got ${values.workers})`);
  process.exit(2);
}
const SIZES: Sizes = quick
  ? { rounds: 30, warmup: 5, warmBatch: 32, tasks: 200, repetitions: 3, settleMs: 1_000 }
  : { rounds: 300, warmup: 30, warmBatch: 32, tasks: 2_000, repetitions: 3, settleMs: 2_000 };
const started = performance.now();
const log = (line: string) => console.error(line);
const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const loadAtStart = load();
const rows: Row[] = [];
const details: Record<string, unknown> = { sizes: SIZES };
log(
  `ferry bench:peers${quick ? " --quick" : ""}: ${cpus().length} cores, load ${loadAtStart.join(" ")}`,
);

/** The run's end when it cannot go on: the one-line error last, after a log that says why. */
function fail(error: unknown): never {
  killAllGroups();
  if (error instanceof PeerStartError && error.log) log(error.log.replace(/^/gm, "  | "));
  else if (error instanceof Error && error.stack) log(error.stack);
  const message = error instanceof Error ? error.message : String(error);
  console.error(`bench:peers: ${message.split("\n")[0]}`);
  process.exit(1);
}

async function install(): Promise<void> {
  const t0 = performance.now();
  try {
    await promisify(execFile)("sh", [join(PEERS_DIR, "install.sh")]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split("\n").at(-1);
    throw new PeerStartError(stderr || `install.sh failed: ${String(error)}`, "");
  }
  log(`peers installed (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

/** Bench rows 1 and 2 as `npm run bench` runs them, on an agent of 8 slots of their own. */
async function rawRows(base: BenchContext): Promise<BenchOutput> {
  const endpointId = await base.deployment.registerEndpoint("bench-main");
  const agent = await base.deployment.startAgent(endpointId, { workers: 8 });
  try {
    const ctx = { ...base, endpointId };
    const latency = await benchLatency(ctx);
    const throughput = await benchThroughput(ctx);
    return {
      rows: [...latency.rows, ...throughput.rows],
      details: { latency: latency.details, throughput: throughput.details },
    };
  } finally {
    await agent.stop(10_000);
  }
}

/** Ferry, Dask and Celery up at once with `workers` each, measured side by side, then stopped. */
async function comparePeers(base: BenchContext, workers: number): Promise<BenchOutput> {
  const dir = await mkdtemp(join(tmpdir(), `ferry-peers-${workers}-`));
  const starts = await Promise.allSettled([
    startFerry(base, workers),
    startDask(workers, dir),
    startCelery(workers, dir),
  ]);
  const peers = starts.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  try {
    const failed = starts.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    log(`  up: ${peers.map((p) => p.name).join(", ")}`);
    const results = await measurePeers(peers, SIZES, log);
    const stat = (name: Peer["name"]) => results[name]?.stats;
    const Ferry = stat("Ferry");
    if (!Ferry) throw new Error("no Ferry results");
    return {
      rows: peerRows(workers, SIZES.tasks, {
        Ferry,
        Dask: stat("Dask"),
        "Celery+Redis": stat("Celery+Redis"),
      }),
      details: {
        results,
        versions: Object.fromEntries(peers.map((p) => [p.name, p.versions])),
        ferryStagesMedianMs: medianStages(base.stages[`peers-${workers}`] ?? []),
      },
    };
  } finally {
    for (const peer of peers) await peer.stop().catch((e) => log(`stopping ${peer.name}: ${e}`));
    await rm(dir, { recursive: true, force: true });
  }
}

function stopOnSignalOrDeadline(deployment: BenchDeployment): void {
  const stop = (why: string, code: number) => {
    log(`bench:peers: ${why}; stopping`);
    killAllGroups();
    if (rows.length > 0) console.log(formatTable(rows));
    setTimeout(() => process.exit(code), 15_000).unref();
    void deployment.stop().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => stop("interrupted", 130));
  process.once("SIGTERM", () => stop("terminated", 143));
  const minutes = Number(values.deadline);
  setTimeout(() => stop(`over ${minutes} minutes`, 1), minutes * 60_000).unref();
}

async function main(): Promise<void> {
  await install();
  const deployment = await startBenchDeployment();
  stopOnSignalOrDeadline(deployment);
  const executor = executorFor(deployment.conn);
  // endpointId and fileDir are each benchmark's own: rawRows and startFerry set the first.
  const ctx: BenchContext = {
    deployment,
    executor,
    quick,
    endpointId: "",
    fileDir: deployment.home,
    samples: [],
    stages: {},
    log,
  };
  try {
    const benches: [string, () => Promise<BenchOutput>][] = [];
    if (values.raw)
      benches.push(["rows 1, 2: raw two-queue RTT, sqs-consumer echo", () => rawRows(ctx)]);
    for (const w of workerCounts) benches.push([`${w} workers`, () => comparePeers(ctx, w)]);
    for (const [name, bench] of benches) {
      const t0 = performance.now();
      log(`${name}...`);
      const out = await bench();
      rows.push(...out.rows);
      details[name] = { ...out.details, wallS: (performance.now() - t0) / 1000 };
      log(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await executor.close({ closeSession: true }).catch(() => undefined);
    await deployment.stop();
    killAllGroups();
  }
}

await main().catch(fail);
const loadAtEnd = load();
const wallS = (performance.now() - started) / 1000;
const command = `npm run bench:peers${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
console.log(
  `\n${command}   (${wallS.toFixed(0)} s; ${cpus().length} cores; load average at start ${loadAtStart.join(" ")}, at end ${loadAtEnd.join(" ")})`,
);
console.log(formatTable(rows));
const missed = rows
  .filter((r) => r.met === false)
  .map((r) => `${r.benchmark} ${r.what} vs ${r.baselineName}`);
console.log(missed.length > 0 ? `\ntargets missed: ${missed.join("; ")}` : "\nevery target met");
const path = await writeRunResults(
  RESULTS_DIR,
  { command, quick, wallS, loadAverage: { start: loadAtStart, end: loadAtEnd }, rows, details },
  "peers-",
);
console.log(`results: ${path}`);
process.exit(0);
