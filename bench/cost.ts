// What Ferry's traffic costs on AWS: no-op tasks and large objects through the local
// deployment, with the client's and the agent's AWS requests metered at their SDK clients.
//   npm run bench:cost [-- --tasks 300] [--objects 2] [--mb 20] [--prices file.json]
// Prints requests per task by action and dollars per million no-op tasks and per 100 GB moved
// through the S3 store; writes bench/results/cost-<ISO date>.json.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { RequestMeter, type RequestTally } from "#core/aws/index.ts";
import { loadEnv } from "#core/config/index.ts";
import { connect } from "#core/connect.ts";
import {
  type CostEstimate,
  DEFAULT_PRICES_PATH,
  describePrices,
  estimateCost,
  formatDollars,
  loadPriceTable,
  mergeTallies,
  type PriceTable,
  readAgentTally,
} from "#core/cost/index.ts";
import { resolveStorePolicy } from "#core/store/index.ts";
import { spawnAgent } from "#local/index.ts";
import { executorFor, waitForEndpointsOnline } from "#sdk/index.ts";
import { benchArgs } from "./args.ts";
import { type BenchDeployment, FUNCTIONS, startBenchDeployment } from "./deployment.ts";
import { writeResults } from "./report.ts";

const RESULTS_DIR = fileURLToPath(new URL("./results", import.meta.url));
const TOPIC = "bench-cost-s3";
const THRESHOLD = 10_000;
const GB = 1024 ** 3;

const { values } = benchArgs(
  "bench:cost",
  "usage: npm run bench:cost [-- --tasks 300] [--objects 2] [--mb 20] [--prices file.json]",
  {
    options: {
      tasks: { type: "string", default: "300" },
      objects: { type: "string", default: "2" },
      mb: { type: "string", default: "20" },
      prices: { type: "string" },
    },
  },
);
const tasks = Number(values.tasks);
const objects = Number(values.objects);
const objectBytes = Number(values.mb) * 1024 * 1024;
const pricesPath = values.prices ?? DEFAULT_PRICES_PATH;
const prices = await loadPriceTable(pricesPath);
const log = (line: string) => console.error(line);

interface Phase {
  name: string;
  seconds: number;
  tally: RequestTally;
}

/**
 * One phase on fresh clients and a fresh agent, both metered: the agent is stopped at the end
 * so that its tally file holds its last request.
 */
async function phase(
  deployment: BenchDeployment,
  name: string,
  work: (executor: ReturnType<typeof executorFor>, endpointId: string) => Promise<void>,
): Promise<Phase> {
  const endpointId = await deployment.registerEndpoint(`bench-cost-${name}`);
  const meterFile = join(deployment.home, `requests-${name}.json`);
  const agent = spawnAgent({
    endpointId,
    env: deployment.env,
    requestMeterFile: meterFile,
    logFile: join(deployment.home, `agent-cost-${name}.log`),
    configPath: await siteConfig(deployment, name),
  });
  const conn = await connect(loadEnv(deployment.env));
  const meter = new RequestMeter();
  meter.attachAll(conn.aws);
  try {
    await waitForEndpointsOnline(conn.control, [endpointId], 60_000);
    const executor = executorFor(conn, {
      storePolicies: { [TOPIC]: resolveStorePolicy({ backend: "s3", thresholdBytes: THRESHOLD }) },
    });
    const t0 = performance.now();
    await work(executor, endpointId);
    const seconds = (performance.now() - t0) / 1000;
    await executor.close({ closeSession: true });
    await agent.stop(10_000);
    const tally = mergeTallies([meter.tally(), await readAgentTally(meterFile)]);
    return { name, seconds, tally };
  } finally {
    await agent.stop(10_000);
    conn.close();
  }
}

async function siteConfig(deployment: BenchDeployment, name: string): Promise<string> {
  const { writeFile } = await import("node:fs/promises");
  const path = join(deployment.home, `site-cost-${name}.json`);
  const config = {
    workers: 4,
    storePolicies: { [TOPIC]: { backend: "s3", thresholdBytes: THRESHOLD } },
  };
  await writeFile(path, JSON.stringify(config));
  return path;
}

/** Billed requests per task, by service and action, largest first. */
function perTask(tally: RequestTally, count: number): { action: string; perTask: number }[] {
  return Object.entries(tally.services)
    .flatMap(([service, actions]) =>
      Object.entries(actions ?? {}).map(([action, c]) => ({
        action: `${service} ${action}`,
        perTask: c.billed / count,
      })),
    )
    .sort((a, b) => b.perTask - a.perTask);
}

const inRegion = (p: PriceTable): PriceTable => ({
  ...p,
  transfer: { ...p.transfer, outPerGb: 0 },
});

/**
 * The lines that grow with the bytes (S3 requests and storage, data transfer out): the
 * per-task SQS and Lambda share is the no-op figure's, and a phase's fixed start-up requests
 * would be multiplied hundreds of times in a per-100-GB figure.
 */
function byteDollars(estimate: CostEstimate): number {
  return estimate.lines
    .filter((l) => l.service === "S3" || l.service === "Data transfer")
    .reduce((a, l) => a + l.dollars, 0);
}

const started = performance.now();
const deployment = await startBenchDeployment();
let noop: Phase;
let large: Phase;
try {
  noop = await phase(deployment, "noop", async (executor, endpointId) => {
    const specs = Array.from({ length: tasks }, (_, i) => ({
      function: FUNCTIONS.echo,
      args: { i },
      endpointId,
    }));
    const results = await Promise.all((await executor.submitMany(specs)).map((f) => f.result));
    const failed = results.filter((r) => !r.ok).length;
    if (failed > 0) throw new Error(`${failed} of ${tasks} no-op tasks failed`);
  });
  log(`no-ops: ${tasks} in ${noop.seconds.toFixed(1)} s`);
  large = await phase(deployment, "large", async (executor, endpointId) => {
    const bytes = new Uint8Array(objectBytes).fill(7);
    for (let i = 0; i < objects; i++) {
      const future = await executor.submit(FUNCTIONS.echo, bytes, { endpointId, topic: TOPIC });
      const value = await executor.value(await future.result);
      if (!(value instanceof Uint8Array) || value.byteLength !== bytes.byteLength)
        throw new Error("the large echo came back wrong");
    }
  });
  log(`large objects: ${objects} x ${values.mb} MiB in + out in ${large.seconds.toFixed(1)} s`);
} finally {
  await deployment.stop();
}

const movedBytes = 2 * objects * objectBytes;
const noopCost = estimateCost(noop.tally, prices);
const largeCost = estimateCost(large.tally, prices);
const per100Gb = (100 * GB) / movedBytes;
const lines = [
  `requests per no-op task (client + agent, billed, ${tasks} tasks in ${noop.seconds.toFixed(1)} s):`,
  ...perTask(noop.tally, tasks).map((r) => `  ${r.action.padEnd(34)} ${r.perTask.toFixed(3)}`),
  `dollars per million no-op tasks: ${formatDollars((noopCost.totalDollars * 1e6) / tasks)}`,
  `  by line: ${noopCost.lines.map((l) => `${l.service} ${l.kind} ${formatDollars((l.dollars * 1e6) / tasks)}`).join("; ")}`,
  `dollars per 100 GB moved through the S3 store (${objects} x ${values.mb} MiB in + out; ` +
    `S3 and transfer lines): ${formatDollars(byteDollars(largeCost) * per100Gb)} with data ` +
    `transfer out, ${formatDollars(byteDollars(estimateCost(large.tally, inRegion(prices))) * per100Gb)} in-region`,
  `  by line: ${largeCost.lines.map((l) => `${l.service} ${l.kind} ${formatDollars(l.dollars * per100Gb)}`).join("; ")}`,
  describePrices(
    prices,
    pricesPath === DEFAULT_PRICES_PATH ? "core/cost/prices-us-east-1.json" : pricesPath,
  ),
];
console.log(lines.join("\n"));
const path = await writeResults(
  RESULTS_DIR,
  {
    command: `npm run bench:cost${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    date: new Date().toISOString(),
    wallS: (performance.now() - started) / 1000,
    prices: { path: pricesPath, region: prices.region, checked: prices.checked },
    noop: { tasks, seconds: noop.seconds, tally: noop.tally, estimate: noopCost },
    large: {
      objects,
      objectBytes,
      seconds: large.seconds,
      tally: large.tally,
      estimate: largeCost,
    },
    dollarsPerMillionNoops: (noopCost.totalDollars * 1e6) / tasks,
    dollarsPer100GbMoved: byteDollars(largeCost) * per100Gb,
    dollarsPer100GbMovedInRegion:
      byteDollars(estimateCost(large.tally, inRegion(prices))) * per100Gb,
  },
  "cost-",
);
console.log(`results: ${path}`);
