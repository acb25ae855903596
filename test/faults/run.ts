/**
 * The fault campaign (`npm run test:faults [-- --quick] [--seed N] [--only name,...]`): an
 * embedded local deployment in a temporary FERRY_HOME, loopback only, the scenarios one after
 * another (--parallel: side by side, for machines with cores to spare), then a figures table.
 * Exits 1 when a task is lost, surfaced twice, or fails
 * without a reason, or a scenario's own check fails.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { describeError } from "#core/errors.ts";
import { startFaultDeployment } from "./deployment.ts";
import { type Scenario, seededRandom } from "./scenario.ts";
import { agentKill } from "./scenario-agent-kill.ts";
import { awsRealism } from "./scenario-aws-realism.ts";
import { clientRestart } from "./scenario-client-restart.ts";
import { duplicateDelivery } from "./scenario-duplicate-delivery.ts";
import { emulatorOutage } from "./scenario-emulator-outage.ts";
import { groupFailover } from "./scenario-group-failover.ts";
import { workerFaults } from "./scenario-worker-faults.ts";
import { type Figures, formatTable, passed } from "./tally.ts";

const SCENARIOS: Scenario[] = [
  agentKill,
  emulatorOutage,
  workerFaults,
  duplicateDelivery,
  clientRestart,
  awsRealism,
  groupFailover,
];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    seed: { type: "string" },
    only: { type: "string" },
    keep: { type: "boolean", default: false },
    parallel: { type: "boolean" },
  },
});
const quick = values.quick ?? false;
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const only = values.only?.split(",");
const chosen = SCENARIOS.filter((s) => !only || only.includes(s.name));
// Quiet the in-process clients; agents log to files under the temporary home.
process.env.FERRY_LOG_LEVEL ??= "warn";

const started = Date.now();
const log = (message: string) =>
  console.error(`[faults +${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);
log(
  `${quick ? "quick" : "full"} run, seed ${seed}, scenarios: ${chosen.map((s) => s.name).join(", ")}`,
);

const home = await mkdtemp(join(tmpdir(), "ferry-faults-"));
const d = await startFaultDeployment(home);
const random = seededRandom(seed);
const byName = new Map<string, Figures>();
let crashed = false;
const runOne = async (scenario: Scenario): Promise<void> => {
  log(`scenario ${scenario.name}`);
  try {
    const figures = await scenario.run({ d, quick, random, log });
    byName.set(scenario.name, figures);
    log(`${scenario.name}: ${passed(figures) ? "PASS" : "FAIL"} in ${figures.seconds} s`);
  } catch (error) {
    crashed = true;
    log(`${scenario.name} crashed: ${describeError(error)}`);
    console.error(error);
  }
};
try {
  // Scenarios are independent (own endpoint, session, agents): --parallel overlaps their waits.
  if (values.parallel) await Promise.all(chosen.map(runOne));
  else for (const scenario of chosen) await runOne(scenario);
} finally {
  if (values.keep) log(`kept ${home}`);
  else await d.close();
}

const rows = chosen.flatMap((s) => byName.get(s.name) ?? []);
const wallSeconds = Math.round((Date.now() - started) / 100) / 10;
console.log(
  `\nFerry fault campaign (${quick ? "quick" : "full"}, seed ${seed}, ${wallSeconds} s)\n`,
);
console.log(formatTable(rows));
const ok = !crashed && rows.length === chosen.length && rows.every(passed);
// The verdict line is computed from the figures, so a failing run can never print "0 lost".
const sum = (key: "lost" | "duplicatesSurfaced" | "failedNoReason") =>
  rows.reduce((n, f) => n + f[key], 0);
const problems = rows.reduce((n, f) => n + f.problems.length, 0);
console.log(
  `\n${ok ? "PASS" : "FAIL"}: ${sum("lost")} lost, ${sum("duplicatesSurfaced")} duplicates surfaced, ${sum("failedNoReason")} failures without a reason, ${problems} scenario problem(s)${crashed ? ", a scenario crashed" : ""}${rows.length < chosen.length ? `, ${chosen.length - rows.length} scenario(s) without figures` : ""}`,
);
process.exit(ok ? 0 : 1);
