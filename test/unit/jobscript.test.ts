import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateJobscript, type JobscriptInput, type SiteSummary } from "#cli/jobscript/index.ts";
import { readSiteSummary } from "#cli/jobscript/site.ts";
import { ConfigError } from "#core/errors.ts";

const ID = "0190a0b2-7c3e-7d4f-8a1b-123456789abc";
const base = {
  ferryHome: "/home/me/.ferry",
  deployment: "/home/me/.ferry/deployment.json",
  ferry: "/home/me/ferry/bin/ferry",
} satisfies Partial<JobscriptInput>;

function site(overrides: Partial<SiteSummary> = {}): SiteSummary {
  return {
    path: "/home/me/site.yaml",
    endpointId: undefined,
    gpuIds: [],
    shutdownGraceSeconds: 30,
    killGraceSeconds: 5,
    explicit: {},
    relativeDirs: [],
    ...overrides,
  };
}

/** bash -n: the script parses. */
function parses(script: string): void {
  execFileSync("bash", ["-n"], { input: script });
}

/** The ConfigError message generating with these options throws. */
function errorOf(input: Partial<JobscriptInput>, summary?: SiteSummary): string {
  try {
    generateJobscript({ scheduler: "pbs", nodes: 2, endpoint: ID, ...base, ...input }, summary);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).toOneLine();
  }
  throw new Error("expected a ConfigError");
}

describe("PBS job script", () => {
  const { script, submit } = generateJobscript(
    {
      scheduler: "pbs",
      nodes: "2",
      endpoint: ID,
      walltime: "01:00:00",
      queue: "debug",
      account: "MyProject",
      filesystems: "home:eagle",
      system: "polaris",
      ...base,
    },
    site(),
  );

  it("asks for N whole nodes with the walltime, queue, account and filesystems", () => {
    expect(submit).toBe("qsub");
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toContain("#PBS -l select=2:system=polaris\n");
    expect(script).toContain("#PBS -l place=scatter\n");
    expect(script).toContain("#PBS -l walltime=01:00:00\n");
    expect(script).toContain("#PBS -q debug\n");
    expect(script).toContain("#PBS -A MyProject\n");
    expect(script).toContain("#PBS -l filesystems=home:eagle\n");
    expect(script).toContain("#PBS -N ferry-56789abc\n");
  });

  it("starts one agent per node with mpiexec, each in its own FERRY_HOME keyed by host", () => {
    expect(script).toContain(
      `mpiexec -n 2 --ppn 1 bash -c 'eval "$1"; export FERRY_HOME="$FERRY_NODE_HOMES/$(hostname)"; mkdir -p "$FERRY_HOME" || exit 1; exec /home/me/ferry/bin/ferry endpoint start ${ID} --config /home/me/site.yaml 2>>"$FERRY_HOME/agent-$FERRY_JOB_ID.log"' ferry-rank "$rank_env" &`,
    );
    expect(script).toContain("export FERRY_HOME=/home/me/.ferry\n");
    expect(script).toContain("export FERRY_DEPLOYMENT=/home/me/.ferry/deployment.json\n");
    expect(script).toContain('export FERRY_NODE_HOMES="$FERRY_HOME/nodes"\n');
    expect(script).toContain(`export FERRY_JOB_ID="\${PBS_JOBID:-manual-$$}"\n`);
    expect(script).toContain(
      "/home/me/ferry/bin/ferry endpoint status 0190a0b2-7c3e-7d4f-8a1b-123456789abc >/dev/null || exit\n",
    );
  });

  it("forwards SIGTERM, waits for the launcher, and drains by its own timer before the end", () => {
    expect(script).toContain("trap 'drain SIGTERM' TERM\n");
    expect(script).toContain('  wait "$launcher"\n');
    // 3600 s walltime - 120 s drain (the default for a 30 s + 5 s grace).
    expect(script).toContain("  sleep 3480 &\n");
    expect(script).toContain('  wait "$sleeper" && kill -TERM $$\n');
    expect(script).not.toContain("#SBATCH");
    parses(script);
  });

  it("requests GPUs in the select statement", () => {
    const { script: gpu } = generateJobscript(
      { scheduler: "pbs", nodes: 1, endpoint: ID, gpusPerNode: 4, ...base },
      site({ gpuIds: ["0", "1", "2", "3"] }),
    );
    expect(gpu).toContain("#PBS -l select=1:ngpus=4\n");
  });
});

describe("Slurm job script", () => {
  const { script, submit, plan } = generateJobscript(
    {
      scheduler: "slurm",
      nodes: 3,
      walltime: "12:00:00",
      queue: "gpu",
      account: "chem",
      gpusPerNode: "4",
      ...base,
    },
    site({ endpointId: ID, gpuIds: ["0", "1", "2", "3"], shutdownGraceSeconds: 300 }),
  );

  it("asks for N exclusive nodes, one task each, with time, partition, account and GPUs", () => {
    expect(submit).toBe("sbatch");
    expect(plan.endpoint).toBe(ID); // from the site config
    for (const line of [
      "#SBATCH --nodes=3",
      "#SBATCH --ntasks-per-node=1",
      "#SBATCH --exclusive",
      "#SBATCH --time=12:00:00",
      "#SBATCH --partition=gpu",
      "#SBATCH --account=chem",
      "#SBATCH --gpus-per-node=4",
    ]) {
      expect(script).toContain(`${line}\n`);
    }
  });

  it("has Slurm signal the batch shell long enough before the end for the config's grace", () => {
    // 300 s grace + 5 s kill grace + 60 s margin.
    expect(script).toContain("#SBATCH --signal=B:TERM@365\n");
    expect(script).toContain("trap 'drain SIGTERM' TERM\n");
    expect(script).not.toContain("sleep "); // no self timer: Slurm warns by itself
  });

  it("starts one agent per node with srun", () => {
    expect(script).toContain(
      `srun --ntasks=3 --ntasks-per-node=1 --cpus-per-task="\${SLURM_CPUS_ON_NODE:-1}" --gpus-per-node=4 --kill-on-bad-exit=0 bash -c 'eval "$1"; export FERRY_HOME="$FERRY_NODE_HOMES/$(hostname)"; mkdir -p "$FERRY_HOME" || exit 1; exec /home/me/ferry/bin/ferry endpoint start ${ID} --config /home/me/site.yaml`,
    );
    expect(script).toContain(`export FERRY_JOB_ID="\${SLURM_JOB_ID:-manual-$$}"\n`);
    expect(script).not.toContain("#PBS");
    parses(script);
  });

  it("quotes paths that need it, and still parses", () => {
    const { script: odd } = generateJobscript(
      { scheduler: "slurm", nodes: 1, endpoint: "cpu", ...base, ferryHome: "/home/my home" },
      site({ path: "/home/me/it's here/site.yaml" }),
    );
    expect(odd).toContain("export FERRY_HOME='/home/my home'\n");
    expect(odd).toContain("--config '\\''/home/me/it'\\''\\'\\'''\\''s here/site.yaml'\\''");
    parses(odd);
  });

  it("runs without a site config, with the endpoint given", () => {
    const { script: plain } = generateJobscript({
      scheduler: "slurm",
      nodes: 1,
      endpoint: "cpu",
      ...base,
    });
    expect(plain).toContain("exec /home/me/ferry/bin/ferry endpoint start cpu 2>>");
    expect(plain).toContain("#SBATCH --time=01:00:00\n");
    expect(plain).toContain("#SBATCH --signal=B:TERM@120\n");
    expect(plain).not.toContain("--partition");
  });
});

describe("launchers", () => {
  const gen = (input: Partial<JobscriptInput>) =>
    generateJobscript({ scheduler: "pbs", nodes: 3, endpoint: ID, ...input });

  it.each([
    ["pbs", "mpich", "mpiexec -n 3 --ppn 1 bash -c '"],
    ["slurm", "mpich", "mpiexec -n 3 --ppn 1 bash -c '"],
    ["pbs", "openmpi", "mpirun -np 3 --map-by ppr:1:node --bind-to none bash -c '"],
    ["slurm", "openmpi", "mpirun -np 3 --map-by ppr:1:node --bind-to none bash -c '"],
    ["pbs", "pbsdsh", "pbsdsh -- /bin/bash -c '"],
    [
      "slurm",
      "srun",
      `srun --ntasks=3 --ntasks-per-node=1 --cpus-per-task="\${SLURM_CPUS_ON_NODE:-1}" --kill-on-bad-exit=0 bash -c '`,
    ],
  ] as const)("%s --launcher %s: %s", (scheduler, launcher, line) => {
    const { script, plan } = gen({ scheduler, launcher });
    expect(plan.launcher).toBe(launcher);
    expect(script).toContain(`\n${line}`);
    expect(script).toContain(`--launcher ${launcher}.`);
    parses(script);
  });

  it("none: one agent started by the batch script itself, for one node", () => {
    const { script } = gen({ launcher: "none", nodes: 1 });
    expect(script).toContain('\nbash -c \'eval "$1"; ');
    expect(script).not.toMatch(/^(mpiexec|mpirun|pbsdsh|srun) /m);
    parses(script);
  });

  it("defaults to mpich under PBS and srun under Slurm", () => {
    expect(gen({}).plan.launcher).toBe("mpich");
    expect(gen({ scheduler: "slurm" }).plan.launcher).toBe("srun");
  });

  it("drains signal launchers by SIGTERM, and mpirun and pbsdsh by a drain file", () => {
    for (const launcher of ["mpich", "none"] as const) {
      const { script } = gen({ launcher, nodes: 1 });
      expect(script).toContain('  [ -n "$launcher" ] && kill -TERM "$launcher" 2>/dev/null\n');
      expect(script).not.toContain("drain_file");
    }
    for (const launcher of ["openmpi", "pbsdsh"] as const) {
      const { script } = gen({ launcher });
      // Never SIGTERM to mpirun (it kills the ranks) or pbsdsh (it exits under the agents).
      expect(script).not.toContain('kill -TERM "$launcher"');
      expect(script).toContain('  : >"$drain_file"\n');
      expect(script).toContain(
        'if [ -e "$FERRY_NODE_HOMES/drain-$FERRY_JOB_ID" ]; then kill -TERM $$',
      );
    }
  });

  it("hands each rank the batch shell's Ferry, AWS and PATH variables", () => {
    const { script } = gen({ launcher: "pbsdsh" });
    expect(script).toContain(`for name in PATH LD_LIBRARY_PATH \${!FERRY_@} \${!AWS_@}`);
    expect(script).toContain(`' ferry-rank "$rank_env" &\n`);
  });
});

describe("no path of the machine that writes the script", () => {
  const { script } = generateJobscript({ scheduler: "slurm", nodes: 2, endpoint: ID });

  it("runs ferry from the site's PATH and says the site must have it", () => {
    expect(script).toContain(`exec ferry endpoint start ${ID} 2>>`);
    expect(script).toContain(`\nferry endpoint status ${ID} >/dev/null || exit\n`);
    expect(script).toContain("# Needs Ferry installed on the site");
    expect(script).toContain("if ! command -v ferry >/dev/null; then\n");
  });

  it("uses the job's own FERRY_HOME and deployment file unless they are given", () => {
    expect(script).toContain(`export FERRY_HOME="\${FERRY_HOME:-$HOME/.ferry}"\n`);
    expect(script).toContain(
      `export FERRY_DEPLOYMENT="\${FERRY_DEPLOYMENT:-$FERRY_HOME/deployment.json}"\n`,
    );
  });

  it("accepts an explicit --ferry, absolute or a command name", () => {
    const named = generateJobscript({
      scheduler: "slurm",
      nodes: 1,
      endpoint: ID,
      ferry: "ferry-0.1",
    });
    expect(named.script).toContain("exec ferry-0.1 endpoint start");
    expect(named.script).toContain("# Each node runs Ferry as ferry-0.1 (--ferry)");
  });
});

describe("bad options give one-line errors naming the flag", () => {
  it.each([
    [{ nodes: 0 }, "--nodes: must be at least 1"],
    [{ nodes: "two" }, "--nodes: expected a whole number"],
    [{ scheduler: "sge" as "pbs" }, "--scheduler: expected pbs or slurm"],
    [{ walltime: "1h" }, "--walltime: expected HH:MM:SS"],
    [{ walltime: "00:01:00" }, "--walltime 00:01:00 is not longer than the 120 s"],
    [{ endpoint: "bad name!" }, "--endpoint: expected an endpoint UUID or name"],
    [{ queue: "a queue" }, "--queue:"],
    [{ gpusPerNode: "0" }, "--gpus-per-node:"],
    [{ drainSeconds: 20 }, "--drain-seconds 20 leaves agents too little time"],
    [{ ferryHome: "relative/home" }, "--ferry-home: must be an absolute path"],
    [{ scheduler: "slurm" as const, filesystems: "home:eagle" }, "--filesystems is a PBS option"],
    [{ scheduler: "slurm" as const, system: "polaris" }, "--system is a PBS option"],
    [{ endpoint: undefined }, "no endpoint to serve: pass --endpoint"],
    [
      { launcher: "mpi" as "mpich" },
      "--launcher: expected one of mpich, openmpi, pbsdsh, srun, none",
    ],
    [
      { launcher: "srun" },
      "--launcher srun does not run under pbs: use mpich, openmpi, pbsdsh, none",
    ],
    [
      { scheduler: "slurm" as const, launcher: "pbsdsh" },
      "--launcher pbsdsh does not run under slurm: use mpich, openmpi, srun, none (default srun)",
    ],
    [{ launcher: "none" }, "--launcher none starts one agent, on one node, not 2"],
    [{ ferry: "bin/ferry" }, "--ferry: expected an absolute path on the site"],
    [{ deployment: "deployment.json" }, "--deployment: must be an absolute path"],
  ] satisfies [Partial<JobscriptInput>, string][])("%o", (input, message) => {
    const line = errorOf(input);
    expect(line).toContain(message);
    expect(line).not.toContain("\n");
  });

  it("refuses fewer GPUs per node than the site config pins tasks to", () => {
    expect(errorOf({ gpusPerNode: 2 }, site({ gpuIds: ["0", "1", "2", "3"] }))).toContain(
      "--gpus-per-node 2 is fewer than the site config's 4 gpuIds",
    );
  });
});

describe("warnings", () => {
  it("warns when GPUs are requested but not pinned, or a spool is shared by all nodes", () => {
    const { plan } = generateJobscript(
      { scheduler: "slurm", nodes: 2, endpoint: ID, gpusPerNode: 1, ...base },
      site({ explicit: { spoolDir: "/lus/shared/spool" }, relativeDirs: ["scratchDir"] }),
    );
    expect(plan.warnings.join("\n")).toContain("lists no gpuIds");
    expect(plan.warnings.join("\n")).toContain("sets spoolDir /lus/shared/spool: all 2 agents");
    expect(plan.warnings.join("\n")).toContain("scratchDir is a relative path");
  });
});

describe("readSiteSummary", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-jobscript-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("reads the endpoint, GPUs, grace periods and the directories the file sets", async () => {
    const path = join(dir, "site.yaml");
    await writeFile(
      path,
      `endpointId: ${ID}\ngpuIds: ["0", "1"]\nspoolDir: /lus/spool\nscratchDir: scratch\nshutdownGraceSeconds: 90\n`,
    );
    const s = await readSiteSummary(path);
    expect(s).toMatchObject({
      path,
      endpointId: ID,
      gpuIds: ["0", "1"],
      shutdownGraceSeconds: 90,
      killGraceSeconds: 5,
      explicit: { spoolDir: "/lus/spool" },
      relativeDirs: ["scratchDir"],
    });
    expect(s.explicit.cacheDir).toBeUndefined();
  });

  it("fails as the agent would on a bad field", async () => {
    const path = join(dir, "bad.json");
    await writeFile(path, JSON.stringify({ workers: 0 }));
    await expect(readSiteSummary(path)).rejects.toThrow(/bad\.json: workers/);
  });
});
