import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DRAIN_POLL_SECONDS, LAUNCHER, type LauncherName } from "#cli/jobscript/index.ts";
import type { Connection } from "#core/connect.ts";
import type { HeartbeatRecord } from "#core/protocol/index.ts";
import { connectForTest, ferryEnv, runFerry } from "../helpers/ferry.ts";

const FERRY_BIN = fileURLToPath(new URL("../../bin/ferry.js", import.meta.url));

/** Waits for every rank, a second wait when a trapped signal cut the first short. */
const WAIT_ALL = `status=0
for pid in "\${pids[@]}"; do
  while :; do
    wait "$pid"; rc=$?
    kill -0 "$pid" 2>/dev/null || break
  done
  [ "$rc" -ne 0 ] && status=$rc
done
exit "$status"
`;

/**
 * Stand-in for mpiexec (Hydra, PALS) and srun: N copies of the command on this machine (N from
 * -n or --ntasks=), with this environment; SIGTERM/SIGINT passed on, and it waits for them.
 */
const FAKE_MPI = `#!/bin/bash
n=1
while [ $# -gt 0 ]; do
  case "$1" in
    -n | --np) n=$2; shift 2 ;;
    --ppn | --depth) shift 2 ;;
    --ntasks=*) n=\${1#*=}; shift ;;
    -*) shift ;;
    *) break ;;
  esac
done
pids=()
trap 'kill -TERM "\${pids[@]}" 2>/dev/null' TERM INT
for ((i = 0; i < n; i++)); do "$@" & pids+=($!); done
${WAIT_ALL}`;

/**
 * Stand-in for Open MPI's mpirun: -np N copies that get none of this environment (remote
 * orteds pass little of it), and SIGTERM kills the ranks, as Open MPI aborts a job.
 */
const FAKE_MPIRUN = `#!/bin/bash
n=1
while [ $# -gt 0 ]; do
  case "$1" in
    -np) n=$2; shift 2 ;;
    --map-by | --bind-to) shift 2 ;;
    *) break ;;
  esac
done
pids=()
trap 'kill -KILL "\${pids[@]}" 2>/dev/null' TERM INT
for ((i = 0; i < n; i++)); do env -i HOME="$HOME" "$@" & pids+=($!); done
${WAIT_ALL}`;

/**
 * Stand-in for OpenPBS's pbsdsh: one task per line of $PBS_NODEFILE, with none of the batch
 * shell's environment; SIGTERM is passed to the tasks and pbsdsh exits at once, as the real one.
 */
const FAKE_PBSDSH = `#!/bin/bash
[ "$1" = "--" ] && shift
pids=()
trap 'kill -TERM "\${pids[@]}" 2>/dev/null; exit 1' TERM INT
while read -r _; do env -i HOME="$HOME" "$@" & pids+=($!); done <"$PBS_NODEFILE"
${WAIT_ALL}`;

const SITE_CONFIG = {
  workers: 1,
  heartbeatIntervalSeconds: 1,
  shutdownGraceSeconds: 3,
  killGraceSeconds: 1,
};
/** The agents' drain bound (grace + kill grace) and slack for process exits and a last send. */
const DRAIN_BOUND_MS = (SITE_CONFIG.shutdownGraceSeconds + SITE_CONFIG.killGraceSeconds + 6) * 1000;

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("ferry endpoint jobscript, the script run locally with stand-in launchers", () => {
  let dir: string;
  let fakeBin: string;
  let nodeFile: string;
  let siteConfig: string;
  let conn: Connection;
  const jobs: ChildProcess[] = [];
  let serial = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-jobscript-it-"));
    fakeBin = join(dir, "bin");
    await mkdir(fakeBin);
    const fakes: Record<string, string> = {
      mpiexec: FAKE_MPI,
      srun: FAKE_MPI,
      mpirun: FAKE_MPIRUN,
      pbsdsh: FAKE_PBSDSH,
      // The site's own `ferry` on PATH (the script names none): this checkout's, by a stub.
      ferry: `#!/bin/sh\nexec '${process.execPath}' '${FERRY_BIN}' "$@"\n`,
    };
    for (const [name, text] of Object.entries(fakes)) {
      await writeFile(join(fakeBin, name), text);
      await chmod(join(fakeBin, name), 0o755);
    }
    // Two chunks of the select statement, one per "node", for the fake pbsdsh.
    nodeFile = join(dir, "nodefile");
    await writeFile(nodeFile, `${hostname()}\n${hostname()}\n`);
    siteConfig = join(dir, "site.json");
    await writeFile(siteConfig, JSON.stringify(SITE_CONFIG));
    conn = await connectForTest();
  });

  afterAll(async () => {
    for (const job of jobs) if (job.exitCode === null) job.kill("SIGKILL");
    conn?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The job's environment: the fakes and the `ferry` stub first on PATH, as on a site. */
  const jobEnv = (extra: NodeJS.ProcessEnv = {}) =>
    ferryEnv({ PATH: `${fakeBin}:${process.env.PATH}`, PBS_NODEFILE: nodeFile, ...extra });

  async function registerEndpoint(prefix: string) {
    const { endpoint } = await conn.control.call("registerEndpoint", {
      name: `${prefix}-${Date.now()}-${++serial}`,
    });
    return endpoint;
  }

  /** Write a script with the real CLI (it must parse: bash -n) and start it under bash. */
  function runScript(script: string, env: NodeJS.ProcessEnv) {
    const job = spawn("bash", [script], { env, stdio: ["ignore", "ignore", "pipe"] });
    jobs.push(job);
    let stderr = "";
    job.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(job, "exit").then(([code]) => code as number | null);
    return { job, exited, stderr: () => stderr };
  }

  async function generate(args: string[], script: string) {
    const gen = await runFerry(["endpoint", "jobscript", ...args, "--output", script]);
    expect(gen.stderr).toBe("");
    expect(gen.code).toBe(0);
    const text = await readFile(script, "utf8");
    execFileSync("bash", ["-n", script]);
    return text;
  }

  /** Register an endpoint, generate its script and run it until all its agents beat. */
  async function startJob(
    scheduler: "pbs" | "slurm",
    launcher: LauncherName,
    nodes: number,
    extra: string[] = [],
  ) {
    const endpoint = await registerEndpoint(`jobscript-${launcher}`);
    const ferryHome = join(dir, `home-${endpoint.name}`);
    const text = await generate(
      [
        ...["--scheduler", scheduler, "--launcher", launcher, "--nodes", String(nodes)],
        ...["--endpoint", endpoint.name, "--config", siteConfig, "--ferry-home", ferryHome],
        ...["--deployment", inject("deploymentPath"), ...extra],
      ],
      join(dir, `${endpoint.name}.sh`),
    );
    expect(text).toContain(`exec ferry endpoint start ${endpoint.endpointId} --config`);
    const started = Date.now();
    const run = runScript(join(dir, `${endpoint.name}.sh`), jobEnv({ FERRY_LOG_LEVEL: "info" }));
    let agents: HeartbeatRecord[] = [];
    await waitUntil(`${nodes} agents' heartbeats`, 60_000, async () => {
      const view = await conn.control.call("describeEndpoint", {
        endpointId: endpoint.endpointId,
      });
      agents = view.agents.filter((a) => a.at >= started);
      return agents.length === nodes;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; job stderr:\n${run.stderr()}`);
    });
    return { ...run, ferryHome, agents };
  }

  /** Every agent logged its drain and stop in its node's log file (one host here). */
  async function expectDrainedLogs(ferryHome: string, agents: number) {
    const nodeHome = join(ferryHome, "nodes", hostname());
    const logs = (await readdir(nodeHome)).filter((f) => f.startsWith("agent-"));
    expect(logs).toHaveLength(1);
    const text = await readFile(join(nodeHome, logs[0] ?? ""), "utf8");
    expect(text.match(/"msg":"draining"/g)).toHaveLength(agents);
    expect(text.match(/"msg":"endpoint agent stopped"/g)).toHaveLength(agents);
  }

  it.each([
    ["pbs", "mpich", 2],
    ["slurm", "srun", 2],
    // These two fakes give the ranks none of the script's environment, as the real ones.
    ["pbs", "pbsdsh", 2],
    ["slurm", "openmpi", 2],
    ["slurm", "none", 1],
  ] as const)(
    "%s --launcher %s: %i agent(s) serve one endpoint, and SIGTERM to the script drains and stops them",
    async (scheduler, launcher, nodes) => {
      const job = await startJob(scheduler, launcher, nodes);
      const pids = job.agents.map((a) => a.pid);
      expect(new Set(pids).size).toBe(nodes);
      expect(new Set(job.agents.map((a) => a.agentId)).size).toBe(nodes);
      expect(pids.every(alive)).toBe(true);

      const signalled = Date.now();
      job.job.kill("SIGTERM");
      const code = await job.exited;
      const tookMs = Date.now() - signalled;
      expect(code, job.stderr()).toBe(0);
      // A drain file is seen within one look of each rank's watcher.
      const pollMs = LAUNCHER[launcher].drain === "file" ? DRAIN_POLL_SECONDS * 1000 : 0;
      expect(tookMs).toBeLessThan(DRAIN_BOUND_MS + pollMs);
      expect(pids.some(alive)).toBe(false);
      expect(job.stderr()).toContain("SIGTERM: draining the agents");
      expect(job.stderr()).toContain("agents stopped (exit 0)");
      await expectDrainedLogs(job.ferryHome, nodes);
    },
    120_000,
  );

  it("pbs: the script drains the agents by itself drainSeconds before the walltime ends", async () => {
    // 60 s walltime, drain 14 s before the end: the script's own timer fires after 46 s, time
    // enough for two agents to start on a loaded machine.
    const job = await startJob("pbs", "mpich", 2, [
      "--walltime",
      "00:01:00",
      "--drain-seconds",
      "14",
    ]);
    const code = await job.exited;
    expect(code, job.stderr()).toBe(0);
    expect(job.stderr()).toContain("SIGTERM: draining the agents");
    expect(job.agents.map((a) => a.pid).some(alive)).toBe(false);
    await expectDrainedLogs(job.ferryHome, 2);
  }, 120_000);

  it("stops before launching when the endpoint was deregistered after the script was written", async () => {
    const endpoint = await registerEndpoint("jobscript-gone");
    const script = join(dir, "gone.sh");
    await generate(
      [
        ...["--scheduler", "slurm", "--nodes", "2", "--endpoint", endpoint.endpointId],
        ...["--ferry-home", join(dir, "home-gone")],
      ],
      script,
    );
    await conn.control.call("deregisterEndpoint", { endpointId: endpoint.endpointId });
    // FERRY_DEPLOYMENT from the job's environment: the script fixes none.
    const run = runScript(script, jobEnv());
    expect(await run.exited).toBe(3); // ferry's "not found"
    expect(run.stderr()).toContain(`endpoint ${endpoint.endpointId} is not registered`);
    expect(run.stderr()).not.toContain("starting 2 agent(s)");
  });
});
