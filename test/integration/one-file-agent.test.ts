// The one-file agent (npm run build:agent) on a site without Node: built for real (or reused
// when its inputs hash as the last build's), started with an environment whose PATH has no
// node, registered against the suite's deployment, and given a node and a shell task through
// the SDK. Prints its size and start-up times: what README.md quotes.
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EMULATOR_CREDENTIALS } from "#core/aws/index.ts";
import type { Connection } from "#core/connect.ts";
import {
  type Executor,
  executorFor,
  registerNodeFunction,
  registerShellFunction,
  waitForEndpointsOnline,
} from "#sdk/index.ts";
import { connectForTest, runFerry } from "../helpers/ferry.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BINARY = join(ROOT, "dist", `ferry-agent-${process.platform}-${process.arch}`);
const run = promisify(execFile);
const suffix = Math.random().toString(36).slice(2, 8);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

let conn: Connection;
let executor: Executor;
let dir: string;
let endpointId: string;
let agent: ChildProcess | undefined;
/** The agent's log lines (JSON), as they arrive on its stderr. */
const logs: string[] = [];
let launchToRunningMs = Number.NaN;
let path: string;
let siteConfig: string;
let probe: string;

/** A PATH of the few tools the shell function and the job script need, and no node. */
async function nodelessPath(): Promise<string> {
  const bin = join(dir, "bin");
  await mkdir(bin);
  for (const tool of ["sh", "sed", "bash", "hostname", "mkdir", "rm"]) {
    const found = spawnSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
    await symlink(found.stdout.trim(), join(bin, tool));
  }
  return bin;
}

/** The environment a site gives the agent: nothing of this (Node) process's. */
function siteEnv(path: string): NodeJS.ProcessEnv {
  return {
    PATH: path,
    HOME: dir,
    FERRY_HOME: join(dir, "ferry-home"),
    FERRY_DEPLOYMENT: inject("deploymentPath"),
    FERRY_LOG_LEVEL: "info",
    // The emulators' key (s3rver checks it): it must never reach a function (asserted below).
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
  };
}

/** Start the binary as a site would, and note when it logs that it polls. */
function startAgent(path: string): ChildProcess {
  const launched = performance.now();
  const child = spawn(BINARY, ["endpoint", "start", endpointId, "--config", siteConfig], {
    env: siteEnv(path),
    stdio: ["ignore", "inherit", "pipe"],
  });
  if (!child.stderr) throw new Error("no stderr pipe");
  createInterface({ input: child.stderr }).on("line", (line) => {
    logs.push(line);
    if (line.includes('"endpoint agent running"') && Number.isNaN(launchToRunningMs))
      launchToRunningMs = performance.now() - launched;
  });
  return child;
}

beforeAll(async () => {
  // The first build takes a while (a copy of Node and an injection); a rebuild with the same
  // inputs only bundles.
  const built = await run(process.execPath, [join(ROOT, "scripts", "build-agent.ts")], {
    timeout: 540_000,
  });
  console.log(
    built.stderr
      .split("\n")
      .filter((l) => l.startsWith("build-agent:"))
      .join("\n"),
  );
  dir = await mkdtemp(join(tmpdir(), "ferry-one-file-"));
  conn = await connectForTest();
  const { endpoint } = await conn.control.call("registerEndpoint", { name: `one-file-${suffix}` });
  endpointId = endpoint.endpointId;
  path = await nodelessPath();
  // The point of the test: nothing on this PATH is a node.
  expect(spawnSync("/bin/sh", ["-c", "command -v node"], { env: { PATH: path } }).status).not.toBe(
    0,
  );
  siteConfig = join(dir, "site.json");
  await writeFile(siteConfig, JSON.stringify({ workers: 2, pollWaitSeconds: 1, scratchDir: dir }));
  agent = startAgent(path);
  await waitForEndpointsOnline(conn.control, [endpointId], 60_000);
  executor = executorFor(conn, { journalDir: join(dir, "journal") });
  // Reports what the function can see from inside its worker.
  const file = join(dir, "probe.ts");
  await writeFile(
    file,
    `import { createHash } from "node:crypto";
export default (args: { n: number }) => {
  let sum = 0;
  for (let i = 0; i < args.n; i++) sum += i * i;
  const secret = (k: string) => k.startsWith("AWS_") || k === "FERRY_DEPLOYMENT" || k === "FERRY_HOME";
  return {
    sum,
    digest: createHash("sha256").update("ferry").digest("hex").slice(0, 8),
    execPath: process.execPath,
    secrets: Object.keys(process.env).filter(secret),
  };
};
`,
  );
  const deps = { control: conn.control, s3: conn.aws.s3, bucket: conn.deployment.bucketName };
  probe = (await registerNodeFunction(deps, file, `one-file-probe-${suffix}`)).name;
}, 600_000);

afterAll(async () => {
  await executor?.close({ closeSession: true });
  if (agent && agent.exitCode === null) {
    const exited = once(agent, "exit");
    agent.kill("SIGTERM");
    await exited;
  }
  conn?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the one-file agent", () => {
  it("runs a node function in a worker that is the binary itself, without the agent's credentials", async () => {
    const future = await executor.submit(probe, { n: 10 }, { endpointId });
    const result = await future.result;
    expect(await executor.value(result)).toEqual({
      sum: 285,
      digest: "e9087d0b",
      execPath: BINARY,
      secrets: [],
    });
  });

  it("runs a shell function with JSON on stdin and stdout", async () => {
    const script = `sed -e 's/.*"word":"\\([a-z]*\\)".*/{"echo":"\\1"}/'`;
    const fn = await registerShellFunction(
      { control: conn.control },
      ["sh", "-c", script],
      `one-file-echo-${suffix}`,
    );
    const future = await executor.submit(fn.name, { word: "ferry" }, { endpointId });
    expect(await executor.value(await future.result)).toEqual({ echo: "ferry" });
  });

  it("runs from a Slurm job script written with --ferry <the binary>, and drains on SIGTERM", async () => {
    const { endpoint } = await conn.control.call("registerEndpoint", {
      name: `one-file-job-${suffix}`,
    });
    const script = join(dir, "agent.sbatch");
    const written = await runFerry([
      ...["endpoint", "jobscript", "--scheduler", "slurm", "--launcher", "none", "--nodes", "1"],
      ...["--endpoint", endpoint.endpointId, "--config", siteConfig, "--ferry", BINARY],
      ...["--ferry-home", join(dir, "job-home"), "--deployment", inject("deploymentPath")],
      ...["--output", script],
    ]);
    expect(written.code, written.stderr).toBe(0);
    expect(await readFile(script, "utf8")).toContain(`exec ${BINARY} endpoint start`);
    // The batch shell too finds no node: its preflight (`endpoint status`) and agent are the binary.
    const job = spawn(join(path, "bash"), [script], {
      env: siteEnv(path),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    job.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(job, "exit");
    try {
      await waitForEndpointsOnline(conn.control, [endpoint.endpointId], 60_000);
      const future = await executor.submit(probe, { n: 4 }, { endpointId: endpoint.endpointId });
      expect(await executor.value(await future.result)).toMatchObject({ sum: 14, secrets: [] });
    } finally {
      job.kill("SIGTERM");
    }
    const [code] = await exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("agents stopped (exit 0)");
  });

  it("answers --version and --help, and prints its size and start-up times", async () => {
    const env = { PATH: "/nonexistent" };
    const { stdout } = await run(BINARY, ["--version"], { env });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await run(BINARY, ["endpoint", "start", "--help"], { env });
    expect(help.stdout).toContain("--config <file>");
    const time = async (file: string, args: string[]) => {
      const t = performance.now();
      await run(file, args, { env });
      return performance.now() - t;
    };
    const version: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < 5; i++) {
      version.push(await time(BINARY, ["--version"]));
      bare.push(await time(process.execPath, ["-e", "0"]));
    }
    expect(launchToRunningMs).toBeGreaterThan(0);
    const { size } = await stat(BINARY);
    console.log(
      `one-file agent: ${(size / 2 ** 20).toFixed(1)} MiB; --version ${median(version).toFixed(0)} ms ` +
        `(node -e 0: ${median(bare).toFixed(0)} ms), medians of 5; launch to polling ${launchToRunningMs.toFixed(0)} ms`,
    );
  });
});
