import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import type { HeartbeatRecord } from "#core/protocol/index.ts";
import { connectForTest, ferryEnv, runFerry } from "../helpers/ferry.ts";

/**
 * Stand-in for mpiexec and srun: starts N copies of the command on this machine (N from -n or
 * --ntasks=), passes SIGTERM/SIGINT on to them and exits with the last failure, as they do.
 */
const FAKE_LAUNCHER = `#!/bin/bash
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
status=0
for pid in "\${pids[@]}"; do
  while :; do
    wait "$pid"; rc=$?
    kill -0 "$pid" 2>/dev/null || break
  done
  [ "$rc" -ne 0 ] && status=$rc
done
exit "$status"
`;

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

describe("ferry endpoint jobscript, launch line run locally for N=2", () => {
  let dir: string;
  let fakeBin: string;
  let siteConfig: string;
  let conn: Connection;
  const jobs: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-jobscript-it-"));
    fakeBin = join(dir, "bin");
    await mkdir(fakeBin);
    for (const name of ["mpiexec", "srun"]) {
      await writeFile(join(fakeBin, name), FAKE_LAUNCHER);
      await chmod(join(fakeBin, name), 0o755);
    }
    siteConfig = join(dir, "site.json");
    await writeFile(siteConfig, JSON.stringify(SITE_CONFIG));
    conn = await connectForTest();
  });

  afterAll(async () => {
    for (const job of jobs) if (job.exitCode === null) job.kill("SIGKILL");
    conn?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Register an endpoint, generate its script with the real CLI, and start it under bash. */
  async function startJob(scheduler: "pbs" | "slurm", extra: string[] = []) {
    const { endpoint } = await conn.control.call("registerEndpoint", {
      name: `jobscript-${scheduler}-${Date.now()}`,
    });
    const ferryHome = join(dir, `home-${scheduler}-${Date.now()}`);
    const script = join(dir, `${scheduler}-${Date.now()}.sh`);
    const gen = await runFerry([
      "endpoint",
      "jobscript",
      "--scheduler",
      scheduler,
      "--nodes",
      "2",
      "--endpoint",
      endpoint.endpointId,
      "--config",
      siteConfig,
      "--ferry-home",
      ferryHome,
      "--deployment",
      ferryEnv().FERRY_DEPLOYMENT ?? "",
      "--output",
      script,
      ...extra,
    ]);
    expect(gen.stderr).toBe("");
    expect(gen.code).toBe(0);
    const text = await readFile(script, "utf8");
    expect(text).toContain(scheduler === "pbs" ? "mpiexec -n 2 --ppn 1" : "srun --ntasks=2");

    const started = Date.now();
    const job = spawn("bash", [script], {
      env: ferryEnv({ PATH: `${fakeBin}:${process.env.PATH}`, FERRY_LOG_LEVEL: "info" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    jobs.push(job);
    let stderr = "";
    job.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(job, "exit").then(([code]) => code as number | null);

    let agents: HeartbeatRecord[] = [];
    await waitUntil("two agents' heartbeats", 60_000, async () => {
      const view = await conn.control.call("describeEndpoint", {
        endpointId: endpoint.endpointId,
      });
      agents = view.agents.filter((a) => a.at >= started);
      return agents.length === 2;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; job stderr:\n${stderr}`);
    });
    return {
      endpointId: endpoint.endpointId,
      ferryHome,
      job,
      exited,
      agents,
      stderr: () => stderr,
    };
  }

  /** Both agents logged their drain and stop in their node's log file (one host here). */
  async function expectDrainedLogs(ferryHome: string) {
    const nodeHome = join(ferryHome, "nodes", hostname());
    const logs = (await readdir(nodeHome)).filter((f) => f.startsWith("agent-"));
    expect(logs).toHaveLength(1);
    const text = await readFile(join(nodeHome, logs[0] ?? ""), "utf8");
    expect(text.match(/"msg":"draining"/g)).toHaveLength(2);
    expect(text.match(/"msg":"endpoint agent stopped"/g)).toHaveLength(2);
  }

  it.each(["pbs", "slurm"] as const)(
    "%s: two agents serve one endpoint, and SIGTERM to the script drains and stops both",
    async (scheduler) => {
      const { ferryHome, job, exited, agents, stderr } = await startJob(scheduler);
      const pids = agents.map((a) => a.pid);
      expect(new Set(pids).size).toBe(2);
      expect(new Set(agents.map((a) => a.agentId)).size).toBe(2);
      expect(pids.every(alive)).toBe(true);

      const signalled = Date.now();
      job.kill("SIGTERM");
      const code = await exited;
      const tookMs = Date.now() - signalled;
      expect(code, stderr()).toBe(0);
      expect(tookMs).toBeLessThan(DRAIN_BOUND_MS);
      expect(pids.some(alive)).toBe(false);
      expect(stderr()).toContain("SIGTERM: draining the agents");
      expect(stderr()).toContain("agents stopped (exit 0)");
      await expectDrainedLogs(ferryHome);
    },
    120_000,
  );

  it("pbs: the script drains the agents by itself drainSeconds before the walltime ends", async () => {
    // 60 s walltime, drain 14 s before the end: the script's own timer fires after 46 s, time
    // enough for two agents to start on a loaded machine.
    const { ferryHome, exited, agents, stderr } = await startJob("pbs", [
      "--walltime",
      "00:01:00",
      "--drain-seconds",
      "14",
    ]);
    const code = await exited;
    expect(code, stderr()).toBe(0);
    expect(stderr()).toContain("SIGTERM: draining the agents");
    expect(agents.map((a) => a.pid).some(alive)).toBe(false);
    await expectDrainedLogs(ferryHome);
  }, 120_000);

  it("stops before launching when the endpoint is not registered", async () => {
    const script = join(dir, "unknown.sh");
    const gen = await runFerry([
      "endpoint",
      "jobscript",
      "--scheduler",
      "slurm",
      "--nodes",
      "2",
      "--endpoint",
      "no-such-endpoint",
      "--ferry-home",
      join(dir, "home-unknown"),
      "--deployment",
      ferryEnv().FERRY_DEPLOYMENT ?? "",
      "--output",
      script,
    ]);
    expect(gen.code).toBe(0);
    const job = spawn("bash", [script], {
      env: ferryEnv({ PATH: `${fakeBin}:${process.env.PATH}` }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    jobs.push(job);
    let stderr = "";
    job.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = await once(job, "exit");
    expect(code).toBe(3); // ferry's "not found"
    expect(stderr).toContain("no endpoint named no-such-endpoint");
    expect(stderr).not.toContain("starting 2 agent(s)");
  });
});
