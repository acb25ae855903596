import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LAUNCHER, type LauncherName } from "#cli/jobscript/index.ts";
import type { Connection } from "#core/connect.ts";
import { connectForTest, ferryEnv, runFerry } from "../helpers/ferry.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

/** The line each launcher starts N=2 agents with (one agent for none). */
const LAUNCH_LINE: Record<LauncherName, string> = {
  mpich: "\nmpiexec -n 2 --ppn 1 bash -c '",
  openmpi: "\nmpirun -np 2 --map-by ppr:1:node --bind-to none bash -c '",
  pbsdsh: "\npbsdsh -- /bin/bash -c '",
  srun: `\nsrun --ntasks=2 --ntasks-per-node=1 --cpus-per-task="\${SLURM_CPUS_ON_NODE:-1}" --kill-on-bad-exit=0 bash -c '`,
  none: "\nbash -c '",
};
const COMBINATIONS = [
  ["pbs", "mpich"],
  ["pbs", "openmpi"],
  ["pbs", "pbsdsh"],
  ["pbs", "none"],
  ["slurm", "srun"],
  ["slurm", "mpich"],
  ["slurm", "openmpi"],
  ["slurm", "none"],
] as const;

describe("ferry endpoint jobscript: what the CLI writes, and what it refuses", () => {
  let dir: string;
  let conn: Connection;
  let serial = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-jobscript-cli-"));
    conn = await connectForTest();
  });

  afterAll(async () => {
    conn?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function registerEndpoint(prefix: string) {
    const { endpoint } = await conn.control.call("registerEndpoint", {
      name: `${prefix}-${Date.now()}-${++serial}`,
    });
    return endpoint;
  }

  /** The real CLI; every script it prints must parse (bash -n, real bash). */
  async function jobscript(args: string[]) {
    const result = await runFerry(["endpoint", "jobscript", ...args]);
    if (result.code === 0) execFileSync("bash", ["-n"], { input: result.stdout });
    return result;
  }

  it.each(COMBINATIONS)(
    "%s --launcher %s: the launcher's line, and no path of this machine",
    async (scheduler, launcher) => {
      const endpoint = await registerEndpoint("jobscript-paths");
      const nodes = launcher === "none" ? "1" : "2";
      const gen = await jobscript([
        ...["--scheduler", scheduler, "--launcher", launcher, "--nodes", nodes],
        ...["--endpoint", endpoint.name],
      ]);
      expect(gen.stderr).toBe("");
      expect(gen.code).toBe(0);
      const script = gen.stdout;
      expect(script.startsWith("#!/bin/bash\n")).toBe(true);
      expect(script).toContain(LAUNCH_LINE[launcher]);
      // Resolved to the UUID: each agent starts without a name lookup, and survives a rename.
      expect(script).toContain(`exec ferry endpoint start ${endpoint.endpointId} 2>>`);
      for (const path of [
        REPO_ROOT,
        process.execPath,
        dirname(process.execPath),
        ferryEnv().FERRY_HOME ?? "",
        inject("deploymentPath"),
        homedir(),
      ]) {
        expect(path.length).toBeGreaterThan(1);
        expect(script).not.toContain(path);
      }
      expect(script).not.toContain(".tools");
      expect(script).toContain(`export FERRY_HOME="\${FERRY_HOME:-$HOME/.ferry}"\n`);
      expect(script).toContain("# Needs Ferry installed on the site");
      expect(script.includes("drain_file")).toBe(LAUNCHER[launcher].drain === "file");
    },
  );

  it("writes an explicit --ferry, --ferry-home and --deployment as given", async () => {
    const endpoint = await registerEndpoint("jobscript-explicit");
    const gen = await jobscript([
      ...["--scheduler", "slurm", "--nodes", "1", "--endpoint", endpoint.endpointId],
      ...["--ferry", "/opt/site/bin/ferry", "--ferry-home", "/lus/proj/ferry"],
      ...["--deployment", inject("deploymentPath")],
    ]);
    expect(gen.stderr).toBe("");
    expect(gen.code).toBe(0);
    expect(gen.stdout).toContain("exec /opt/site/bin/ferry endpoint start");
    expect(gen.stdout).toContain("export FERRY_HOME=/lus/proj/ferry\n");
    expect(gen.stdout).toContain(`export FERRY_DEPLOYMENT=${inject("deploymentPath")}\n`);
  });

  it("checks the endpoint against this machine's deployment when --deployment is the site's", async () => {
    const endpoint = await registerEndpoint("jobscript-elsewhere");
    const gen = await jobscript([
      ...["--scheduler", "pbs", "--nodes", "2", "--endpoint", endpoint.name],
      ...["--deployment", "/lus/site/ferry/deployment.json"],
    ]);
    expect(gen.code).toBe(0);
    expect(gen.stderr).toContain(
      "ferry: warning: --deployment /lus/site/ferry/deployment.json is not on this machine",
    );
    expect(gen.stdout).toContain("export FERRY_DEPLOYMENT=/lus/site/ferry/deployment.json\n");
  });

  it.each([
    ["slurm", "pbsdsh", "--launcher pbsdsh does not run under slurm: use mpich, openmpi, srun"],
    ["pbs", "srun", "--launcher srun does not run under pbs: use mpich, openmpi, pbsdsh, none"],
  ])("refuses %s --launcher %s with one line, exit 2", async (scheduler, launcher, message) => {
    const output = join(dir, `refused-${launcher}.sh`);
    const gen = await jobscript([
      ...["--scheduler", scheduler, "--launcher", launcher, "--nodes", "2"],
      ...["--endpoint", "anything", "--output", output],
    ]);
    expect(gen.code).toBe(2);
    expect(gen.stderr).toContain(`ferry: ${message}`);
    expect(gen.stderr.trim().split("\n")).toHaveLength(1);
    expect(gen.stdout).toBe("");
    expect(existsSync(output)).toBe(false);
  });

  it("refuses an unknown endpoint name with exit 3 and a did-you-mean, and writes nothing", async () => {
    const endpoint = await registerEndpoint("jsnear");
    const typo = `${endpoint.name.slice(0, -1)}x`;
    for (const output of [undefined, join(dir, "unknown.sh")]) {
      const gen = await jobscript([
        ...["--scheduler", "pbs", "--nodes", "2", "--endpoint", typo],
        ...(output ? ["--output", output] : []),
      ]);
      expect(gen.code).toBe(3);
      expect(gen.stderr).toContain(`ferry: no endpoint named ${typo}: did you mean `);
      expect(gen.stderr).toContain(endpoint.name);
      expect(gen.stderr.trim().split("\n")).toHaveLength(1);
      expect(gen.stdout).toBe("");
      if (output) expect(existsSync(output)).toBe(false);
    }
  });

  it("refuses an unregistered endpoint UUID with exit 3", async () => {
    const gen = await jobscript([
      ...["--scheduler", "slurm", "--nodes", "1"],
      ...["--endpoint", "0190a0b2-7c3e-7d4f-8a1b-123456789abc"],
    ]);
    expect(gen.code).toBe(3);
    expect(gen.stderr).toContain(
      "ferry: no endpoint with id 0190a0b2-7c3e-7d4f-8a1b-123456789abc: see `ferry endpoint list`",
    );
    expect(gen.stdout).toBe("");
  });
});
