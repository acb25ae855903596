// The control plane at scale: `ferry endpoint list` and `ferry status` (CLI child processes)
// with 1,000 and 10,000 registered endpoints, against baselines measured in the same run (the
// CLI's own start, `ferry --version`, and one ListObjectsV2 page of the registry), and the
// issue's target: under 2 s with 10,000 endpoints, locally.
//   npm run bench:control-plane [-- --counts 1000,10000] [--runs 3]
// Starts its own local deployment (FERRY_LOCAL_BACKEND=compat for the compat pair). Endpoints
// are seeded as test/helpers/seed-endpoints.ts says: records through the registration
// function's record store, real task queues, real heartbeat calls for a fifth of them.
// Timing rows: `first` is the first call after seeding (the control plane reads every new
// record once), `steady` the median of the next `--runs` calls; the target is on `steady`. The
// in-process row is a registration service of the bench's own, new for each count: its
// `first` is a cold Lambda's listing (the index snapshots, one GET each, then the pages).

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { loadEnv } from "#core/config/index.ts";
import { connect } from "#core/connect.ts";
import { registryKeys } from "#core/names.ts";
import { createRegistrationService } from "#functions/registration/index.ts";
import { localDown, localUp } from "#local/index.ts";
import { listAllEndpoints } from "#sdk/index.ts";
import { seedEndpoints, serviceControl } from "#test/helpers/seed-endpoints.ts";
import { benchArgs } from "./args.ts";
import { writeResults } from "./report.ts";
import { median, round } from "./stats.ts";

const FERRY_BIN = fileURLToPath(new URL("../bin/ferry.js", import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL("./results", import.meta.url));
const TARGET_S = 2;

const { values } = benchArgs(
  "bench:control-plane",
  "usage: npm run bench:control-plane [-- --counts 1000,10000] [--runs 3]",
  {
    options: {
      counts: { type: "string", default: "1000,10000" },
      runs: { type: "string", default: "3" },
    },
  },
);
const counts = (values.counts ?? "").split(",").map(Number).filter(Boolean);
const runs = Math.max(1, Number(values.runs));
const log = (line: string) => console.error(line);

/** Run the CLI once; its wall time in seconds and its parsed --json output. */
function ferry(env: NodeJS.ProcessEnv, args: string[]): Promise<{ s: number; out: unknown }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [FERRY_BIN, ...args],
      { env, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const s = (performance.now() - start) / 1000;
        if (error) return reject(new Error(`ferry ${args.join(" ")}: ${stderr || error.message}`));
        resolve({ s, out: args.includes("--json") ? JSON.parse(stdout) : stdout });
      },
    );
  });
}

/** The first call and the median of `runs` more, checking each answer's row count. */
async function timeCommand(
  env: NodeJS.ProcessEnv,
  args: string[],
  rowsOf: (out: unknown) => number,
  expected: number,
): Promise<{ first: number; steady: number }> {
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const { s, out } = await ferry(env, args);
    const rows = rowsOf(out);
    if (rows !== expected)
      throw new Error(`ferry ${args.join(" ")}: ${rows} rows, not ${expected}`);
    times.push(s);
  }
  return { first: times[0] ?? Number.NaN, steady: median(times.slice(1)) };
}

const home = await mkdtemp(join(tmpdir(), "ferry-bench-cp-"));
const backend = loadEnv().localBackend ?? "fauxqs";
log(`control-plane bench: ${backend} backend, load average ${loadavg().map((x) => x.toFixed(2))}`);
await localUp({ home, backend });
const env: NodeJS.ProcessEnv = {
  ...process.env,
  FERRY_HOME: home,
  FERRY_DEPLOYMENT: join(home, "deployment.json"),
  FERRY_LOG_LEVEL: "warn",
};
const conn = await connect(loadEnv(env));
const target = {
  s3: conn.aws.s3,
  sqs: conn.aws.sqs,
  bucket: conn.deployment.bucketName,
  queuePrefix: conn.deployment.queuePrefix,
  control: conn.control,
};
const results: Record<string, unknown>[] = [];
const lines: string[] = [];
try {
  let seeded = 0;
  for (const count of counts) {
    const t0 = performance.now();
    await seedEndpoints(target, "bench-cp", seeded, count);
    seeded = count;
    log(`${count} endpoints seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const versions: number[] = [];
    for (let i = 0; i < 3; i++) versions.push((await ferry(env, ["--version"])).s);
    const version = median(versions);
    const page = await listPageSeconds();
    const list = await timeCommand(
      env,
      ["endpoint", "list", "--json"],
      (out) => (out as unknown[]).length,
      count,
    );
    const status = await timeCommand(
      env,
      ["status", "--json"],
      (out) => (out as { endpoints: unknown[] }).endpoints.length,
      count,
    );
    const cold = await coldListing(count);
    const row = { count, versionS: version, listPageS: page, list, status, cold };
    results.push(row);
    lines.push(...formatRows(row));
    log(lines.slice(-4).join("\n"));
  }
} finally {
  conn.close();
  await localDown(home);
  await rm(home, { recursive: true, force: true });
}
console.log(
  [
    "what                               first    steady   vs --version  vs 1 page   2 s target",
    ...lines,
  ].join("\n"),
);
console.log(
  `results: ${await writeResults(RESULTS_DIR, { bench: "control-plane", backend, runs, results })}`,
);

/**
 * listEndpoints (all pages) in a registration service of its own in this process: a cold
 * Lambda, whose first listing reads the index snapshots, then a warm one. No CLI, no HTTP hop.
 */
async function coldListing(count: number): Promise<{ first: number; steady: number }> {
  const service = createRegistrationService({
    sqs: conn.aws.sqs,
    s3: conn.aws.s3,
    bucket: conn.deployment.bucketName,
    dlqArn: "",
    queuePrefix: conn.deployment.queuePrefix,
    maxReceiveCount: 5,
  });
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const start = performance.now();
    const views = await listAllEndpoints(serviceControl(service));
    times.push((performance.now() - start) / 1000);
    if (views.length !== count) throw new Error(`cold listing: ${views.length} of ${count}`);
  }
  return { first: times[0] ?? Number.NaN, steady: median(times.slice(1)) };
}

/** One ListObjectsV2 page (1,000 keys) of the endpoints' records, median of 5. */
async function listPageSeconds(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    await conn.aws.s3.send(
      new ListObjectsV2Command({
        Bucket: conn.deployment.bucketName,
        Prefix: registryKeys.endpointsPrefix,
      }),
    );
    times.push((performance.now() - start) / 1000);
  }
  return median(times);
}

function formatRows(row: {
  count: number;
  versionS: number;
  listPageS: number;
  list: { first: number; steady: number };
  status: { first: number; steady: number };
  cold: { first: number; steady: number };
}): string[] {
  const one = (what: string, t: { first: number; steady: number }) =>
    [
      `${what} (${row.count})`.padEnd(34),
      `${round(t.first, 2)} s`.padEnd(8),
      `${round(t.steady, 2)} s`.padEnd(8),
      `${(t.steady / row.versionS).toFixed(1)}x`.padEnd(13),
      `${(t.steady / row.listPageS).toFixed(0)}x`.padEnd(11),
      t.steady <= TARGET_S ? "met" : "MISSED",
    ].join(" ");
  return [
    one("ferry endpoint list", row.list),
    one("ferry status", row.status),
    one("in-process listEndpoints", row.cold),
    `  baselines: ferry --version ${round(row.versionS, 2)} s, one ListObjectsV2 page ${round(row.listPageS * 1000, 1)} ms`,
  ];
}
