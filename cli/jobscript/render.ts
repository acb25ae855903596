import { FERRY_VERSION } from "#core/version.ts";
import type { SchedulerDialect } from "./dialect.ts";
import { type JobscriptPlan, toSeconds } from "./options.ts";
import { pbs } from "./pbs.ts";
import { shellWord, singleQuote } from "./shell.ts";
import { slurm } from "./slurm.ts";

export function dialectOf(plan: Pick<JobscriptPlan, "scheduler">): SchedulerDialect {
  return plan.scheduler === "pbs" ? pbs : slurm;
}

/**
 * The batch script: one agent per node through mpiexec/srun, each with its own state directory
 * keyed by host name, and SIGTERM passed on so that the agents drain before the job is killed.
 */
export function renderJobscript(plan: JobscriptPlan): string {
  const d = dialectOf(plan);
  const endpoint = shellWord(plan.endpoint);
  const config = plan.configPath ? ` --config ${shellWord(plan.configPath)}` : "";
  // Runs on every node: `exec` makes the agent the rank itself, so it gets the launcher's signals.
  const ferry = plan.ferryCommand.map(shellWord).join(" ");
  const rank =
    'export FERRY_HOME="$FERRY_NODE_HOMES/$(hostname)"; mkdir -p "$FERRY_HOME" && ' +
    `exec ${ferry} endpoint start ${endpoint}${config} 2>>"$FERRY_HOME/agent-$FERRY_JOB_ID.log"`;
  const lines = [
    "#!/bin/bash",
    ...d.directives(plan),
    "#",
    `# Ferry endpoint ${plan.endpoint}: one agent on each of ${plan.nodes} node(s); the agents`,
    "# of one endpoint share its task queue as competing consumers.",
    `# Written by \`ferry endpoint jobscript\` (ferry ${FERRY_VERSION}). Submit: ${d.submit} <this file>`,
    `# Stop early, letting the agents drain: ${d.stopEarly}`,
    "set -u",
    "",
    `export FERRY_HOME=${shellWord(plan.ferryHome)}`,
    `export FERRY_DEPLOYMENT=${shellWord(plan.deployment)}`,
    "# Each agent keeps its result spool, bundle cache and log in $FERRY_NODE_HOMES/<host>: never",
    "# shared between nodes, and kept after the job. The launcher passes this environment on.",
    'export FERRY_NODE_HOMES="$FERRY_HOME/nodes"',
    `export FERRY_JOB_ID="\${${d.jobIdVar}:-manual-$$}"`,
    "",
    'log() { echo "ferry-job: $*" >&2; }',
    'if [ ! -r "$FERRY_DEPLOYMENT" ]; then',
    "  log \"no deployment file at $FERRY_DEPLOYMENT: copy the 'cdk deploy --outputs-file' JSON there\"",
    "  exit 2",
    "fi",
    "# Fail once, here, if the deployment is unreachable or the endpoint unknown (ferry says why).",
    `${ferry} endpoint status ${endpoint} >/dev/null || exit`,
    "",
    'launcher=""',
    'draining=""',
    "drain() {",
    '  [ -n "$draining" ] && return',
    "  draining=1",
    `  log "$1: draining the agents (each within ${plan.agentDrainSeconds} s)"`,
    '  [ -n "$launcher" ] && kill -TERM "$launcher" 2>/dev/null',
    "}",
    "trap 'drain SIGTERM' TERM",
    "trap 'drain SIGINT' INT",
    "",
    `log "starting ${plan.nodes} agent(s) for endpoint ${plan.endpoint}; logs: $FERRY_NODE_HOMES/<host>/agent-$FERRY_JOB_ID.log"`,
    `${d.launch(plan, `bash -c ${singleQuote(rank)}`)} &`,
    "launcher=$!",
    '[ -n "$draining" ] && kill -TERM "$launcher" 2>/dev/null # a signal that came before the launch',
    ...(d.selfTimedDrain ? selfTimer(plan) : []),
    "# wait returns early when a trapped signal arrives: wait again until the launcher has exited.",
    "while :; do",
    '  wait "$launcher"',
    "  status=$?",
    '  kill -0 "$launcher" 2>/dev/null || break',
    "done",
    ...(d.selfTimedDrain ? ['kill "$timer" 2>/dev/null'] : []),
    'log "agents stopped (exit $status)"',
    'exit "$status"',
    "",
  ];
  return lines.join("\n");
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
