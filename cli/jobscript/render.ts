import { FERRY_VERSION } from "#core/version.ts";
import type { SchedulerDialect } from "./dialect.ts";
import { DRAIN_POLL_SECONDS, LAUNCHER, type Launcher } from "./launchers.ts";
import { type JobscriptPlan, toSeconds } from "./options.ts";
import { pbs } from "./pbs.ts";
import { shellWord, singleQuote } from "./shell.ts";
import { slurm } from "./slurm.ts";

export function dialectOf(plan: Pick<JobscriptPlan, "scheduler">): SchedulerDialect {
  return plan.scheduler === "pbs" ? pbs : slurm;
}

/**
 * Variables each rank is handed by the batch shell, because launchers pass on different parts of
 * its environment (pbsdsh and Open MPI's mpirun little of it): PATH finds `ferry` and its Node,
 * FERRY_* and AWS_* reach the deployment, the proxies the cloud from a compute node.
 */
const RANK_ENV = [
  "PATH",
  "LD_LIBRARY_PATH",
  `\${!FERRY_@}`,
  `\${!AWS_@}`,
  `\${!NODE_@}`,
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
].join(" ");

/**
 * The batch script: one agent per node through the plan's launcher, each with its own state
 * directory keyed by host name, drained (by signal or drain file) before the job is killed.
 * It names no path of the machine that wrote it: the site's own `ferry`, FERRY_HOME and
 * deployment file are used unless the plan fixes them.
 */
export function renderJobscript(plan: JobscriptPlan): string {
  const d = dialectOf(plan);
  const launcher = LAUNCHER[plan.launcher];
  const lines = [
    ...header(plan, d, launcher),
    ...environment(plan, d),
    ...preflight(plan),
    ...drainHandler(plan, launcher),
    ...launch(plan, launcher),
    ...(d.selfTimedDrain ? selfTimer(plan) : []),
    "# wait returns early when a trapped signal arrives: wait again until the launcher has exited.",
    "while :; do",
    '  wait "$launcher"',
    "  status=$?",
    '  kill -0 "$launcher" 2>/dev/null || break',
    "done",
    ...(d.selfTimedDrain ? ['kill "$timer" 2>/dev/null'] : []),
    ...(launcher.drain === "file" ? ['rm -f "$drain_file"'] : []),
    'log "agents stopped (exit $status)"',
    'exit "$status"',
    "",
  ];
  return lines.join("\n");
}

function endpointLabel(plan: JobscriptPlan): string {
  return plan.endpointName ? `${plan.endpointName} (${plan.endpoint})` : plan.endpoint;
}

function header(plan: JobscriptPlan, d: SchedulerDialect, launcher: Launcher): string[] {
  const ferry =
    plan.ferry === "ferry"
      ? [
          "# Needs Ferry installed on the site: each node runs `ferry` from the job's PATH (for",
          "# example after `npm install -g` of the Ferry package); --ferry <path> names another,",
          "# such as the one-file agent (npm run build:agent), which needs no Node on the nodes.",
        ]
      : [`# Each node runs Ferry as ${plan.ferry} (--ferry): it must exist there.`];
  return [
    "#!/bin/bash",
    ...d.directives(plan),
    "#",
    `# Ferry endpoint ${endpointLabel(plan)}: one agent on each of ${plan.nodes} node(s),`,
    `# started by ${launcher.about}; --launcher ${plan.launcher}.`,
    "# The agents of one endpoint share its task queue as competing consumers.",
    `# Written by \`ferry endpoint jobscript\` (ferry ${FERRY_VERSION}). Submit: ${d.submit} <this file>`,
    `# Stop early, letting the agents drain: ${d.stopEarly}`,
    ...ferry,
    "set -u",
    "",
  ];
}

function environment(plan: JobscriptPlan, d: SchedulerDialect): string[] {
  const home = plan.ferryHome
    ? `export FERRY_HOME=${shellWord(plan.ferryHome)}`
    : `export FERRY_HOME="\${FERRY_HOME:-$HOME/.ferry}"`;
  const deployment = plan.deployment
    ? `export FERRY_DEPLOYMENT=${shellWord(plan.deployment)}`
    : `export FERRY_DEPLOYMENT="\${FERRY_DEPLOYMENT:-$FERRY_HOME/deployment.json}"`;
  return [
    "# Ferry's home and deployment file: the job's own FERRY_HOME (else ~/.ferry) and",
    "# FERRY_DEPLOYMENT (else <home>/deployment.json), unless fixed when the script was written.",
    home,
    deployment,
    "# Each agent keeps its result spool, bundle cache and log in $FERRY_NODE_HOMES/<host>: never",
    "# shared between nodes, and kept after the job.",
    'export FERRY_NODE_HOMES="$FERRY_HOME/nodes"',
    `export FERRY_JOB_ID="\${${d.jobIdVar}:-manual-$$}"`,
    "",
  ];
}

function preflight(plan: JobscriptPlan): string[] {
  const ferry = shellWord(plan.ferry);
  const missing =
    plan.ferry === "ferry"
      ? "no ferry on PATH: install Ferry on this site (npm install -g, or the one-file agent), or write the script again with --ferry <path>"
      : `no executable ${plan.ferry} here: install Ferry there, or write the script again with --ferry <path>`;
  return [
    'log() { echo "ferry-job: $*" >&2; }',
    `if ! command -v ${ferry} >/dev/null; then`,
    `  log ${singleQuote(missing)}`,
    "  exit 2",
    "fi",
    'if [ ! -r "$FERRY_DEPLOYMENT" ]; then',
    "  log \"no deployment file at $FERRY_DEPLOYMENT: copy the 'cdk deploy --outputs-file' JSON there\"",
    "  exit 2",
    "fi",
    "# Fail once, here, if the deployment is unreachable or the endpoint unknown (ferry says why).",
    `${ferry} endpoint status ${shellWord(plan.endpoint)} >/dev/null || exit`,
    "",
    "# Launchers pass on different parts of this shell's environment (pbsdsh and Open MPI's",
    "# mpirun little of it): each rank is handed the variables Ferry needs, quoted, as its $1.",
    'rank_env=""',
    `for name in ${RANK_ENV}; do`,
    `  [ -n "\${!name+set}" ] && rank_env+="export $name=$(printf %q "\${!name}"); "`,
    "done",
    "",
  ];
}

function drainHandler(plan: JobscriptPlan, launcher: Launcher): string[] {
  const byFile = launcher.drain === "file";
  return [
    ...(byFile
      ? [
          `# ${plan.launcher} does not pass SIGTERM on to ranks and wait for them: each rank drains its`,
          `# agent when this file appears (it looks every ${DRAIN_POLL_SECONDS} s), so FERRY_HOME must be on a`,
          "# filesystem that every node of the job sees.",
          'drain_file="$FERRY_NODE_HOMES/drain-$FERRY_JOB_ID"',
          'mkdir -p "$FERRY_NODE_HOMES" && rm -f "$drain_file" || exit 2',
        ]
      : []),
    'launcher=""',
    'draining=""',
    "drain() {",
    '  [ -n "$draining" ] && return',
    "  draining=1",
    `  log "$1: draining the agents (each within ${plan.agentDrainSeconds} s)"`,
    byFile ? '  : >"$drain_file"' : '  [ -n "$launcher" ] && kill -TERM "$launcher" 2>/dev/null',
    "}",
    "trap 'drain SIGTERM' TERM",
    "trap 'drain SIGINT' INT",
    "",
  ];
}

/** The rank's commands: its own FERRY_HOME, then `exec` so that the agent is the rank itself. */
function rankScript(plan: JobscriptPlan, launcher: Launcher): string {
  const config = plan.configPath ? ` --config ${shellWord(plan.configPath)}` : "";
  // For file-drained launchers: a watcher that outlives the exec and signals the agent ($$).
  const watcher =
    launcher.drain === "file"
      ? "( while kill -0 $$ 2>/dev/null; do " +
        'if [ -e "$FERRY_NODE_HOMES/drain-$FERRY_JOB_ID" ]; then kill -TERM $$; exit 0; fi; ' +
        `sleep ${DRAIN_POLL_SECONDS}; done ) </dev/null >/dev/null 2>&1 & `
      : "";
  return (
    'eval "$1"; export FERRY_HOME="$FERRY_NODE_HOMES/$(hostname)"; mkdir -p "$FERRY_HOME" || exit 1; ' +
    `${watcher}exec ${shellWord(plan.ferry)} endpoint start ${shellWord(plan.endpoint)}${config} ` +
    '2>>"$FERRY_HOME/agent-$FERRY_JOB_ID.log"'
  );
}

function launch(plan: JobscriptPlan, launcher: Launcher): string[] {
  const rank = `${launcher.shell ?? "bash"} -c ${singleQuote(rankScript(plan, launcher))} ferry-rank "$rank_env"`;
  return [
    `log "starting ${plan.nodes} agent(s) for endpoint ${endpointLabel(plan)} with ${plan.launcher}; logs: $FERRY_NODE_HOMES/<host>/agent-$FERRY_JOB_ID.log"`,
    `${launcher.line(plan, rank)} &`,
    "launcher=$!",
    ...(launcher.drain === "signal"
      ? ['[ -n "$draining" ] && kill -TERM "$launcher" 2>/dev/null # a signal before the launch']
      : []),
  ];
}

/** PBS Pro warns no one before the walltime ends: signal ourselves drainSeconds before it. */
function selfTimer(plan: JobscriptPlan): string[] {
  const after = toSeconds(plan.walltime) - plan.drainSeconds;
  return [
    `# PBS sends no warning before the walltime ends: drain ${plan.drainSeconds} s before it.`,
    "(",
    '  sleeper=""',
    "  trap 'kill \"$sleeper\" 2>/dev/null; exit 0' TERM",
    `  sleep ${after} &`,
    "  sleeper=$!",
    '  wait "$sleeper" && kill -TERM $$',
    ") &",
    "timer=$!",
  ];
}
