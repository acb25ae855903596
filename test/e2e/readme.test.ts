// The README as a newcomer meets it: its code blocks, from the quick start to "Done for now",
// run top to bottom as one bash script in a copy of this checkout, with a HOME and FERRY_HOME
// of their own and none of the suite's settings. The SDK block installs `npm pack`'s tarball
// into a fresh npm project and runs the README's steer.ts there, unchanged.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readmeScript } from "../helpers/readme-script.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT_TIMEOUT_MS = 540_000;

/** Tracked and new (not ignored) files: the working tree as a fresh clone of it would be. */
async function copyCheckout(to: string): Promise<void> {
  const files = execFileSync("git", ["ls-files", "-z", "-co", "--exclude-standard"], { cwd: ROOT })
    .toString()
    .split("\0")
    .filter((f) => f && existsSync(join(ROOT, f)));
  for (const file of files) {
    await mkdir(dirname(join(to, file)), { recursive: true });
    await copyFile(join(ROOT, file), join(to, file));
  }
  // What `. scripts/env.sh` would install again: the same bytes, linked.
  for (const installed of ["node_modules", ".tools"]) {
    if (existsSync(join(ROOT, installed)))
      await symlink(join(ROOT, installed), join(to, installed));
  }
}

/** A newcomer's environment: no FERRY_* or AWS_* of the suite's, a home of its own. */
function newcomerEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(FERRY_|AWS_|VITEST|npm_)/.test(key) && key !== "FERRY_LOCAL_BACKEND") continue;
    env[key] = value;
  }
  // The npm cache stays the machine's: the tarball's dependencies are the ones already fetched.
  const cache = process.env.npm_config_cache ?? join(homedir(), ".npm");
  return { ...env, HOME: home, npm_config_cache: cache, FERRY_LOG_LEVEL: "info" };
}

/**
 * Run the script with its output in a file: the agents it starts in the background keep any
 * pipe open after bash exits, so the script's end is its exit, not the close of its output.
 */
function runScript(script: string, cwd: string, env: NodeJS.ProcessEnv, logFile: string) {
  const log = openSync(logFile, "w");
  const child = spawn("bash", ["-c", script], {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const done = new Promise<number>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), SCRIPT_TIMEOUT_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? 137);
    });
  });
  return { child, done, output: () => readFile(logFile, "utf8") };
}

describe("README", () => {
  it("runs top to bottom: quick start, many tasks, the campaign, and the SDK from an installed package", async () => {
    const work = await mkdtemp(join(tmpdir(), "ferry-readme-"));
    const checkout = join(work, "ferry");
    const home = join(work, "home");
    await mkdir(home);
    await copyCheckout(checkout);
    const env = newcomerEnv(home);
    const script = readmeScript(await readFile(join(ROOT, "README.md"), "utf8"));
    const run = runScript(script, checkout, env, join(work, "readme.log"));
    try {
      const code = await run.done;
      const out = await run.output();
      expect(code, out.slice(-6_000)).toBe(0);
      // Quick start: the one task's result.
      expect(out).toMatch(/"sum": 285/);
      // Many tasks: three results, one line each.
      const results = (await readFile(join(checkout, "results.jsonl"), "utf8")).trim().split("\n");
      expect(results.map((l) => JSON.parse(l).value)).toEqual(
        expect.arrayContaining([
          { n: 1, sum: 0 },
          { n: 2, sum: 1 },
          { n: 3, sum: 5 },
        ]),
      );
      expect(out).toMatch(/had already ended \(done\): not cancelled/);
      // The campaign: a run directory with its report.
      const runs = await readdir(join(checkout, "runs"));
      expect(runs.some((r) => r.startsWith("quick-"))).toBe(true);
      const runDir = join(checkout, "runs", runs.find((r) => r.startsWith("quick-")) ?? "");
      expect(existsSync(join(runDir, "report.html"))).toBe(true);
      // The SDK: four results printed by steer.ts, from the installed package.
      for (const [n, sum] of [
        [1, 0],
        [2, 1],
        [3, 5],
        [4, 14],
      ]) {
        expect(out).toMatch(new RegExp(`[0-9a-f-]{36} \\{ n: ${n}, sum: ${sum} \\}`));
      }
      // The installed package's own agent ran tasks (its TypeScript loads from node_modules).
      const labLog = await readFile(join(home, "steer", "lab-agent.log"), "utf8");
      expect(labLog).toMatch(/"taskId":"[0-9a-f-]{36}"/);
      // steer.ts type-checks against the package's published types.
      const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
      const flags = ["--noEmit", "--strict", "--skipLibCheck", "--target", "es2024"];
      const types = ["--typeRoots", join(ROOT, "node_modules", "@types"), "--types", "node"];
      const more = ["--module", "nodenext", "--lib", "es2024,dom", ...types];
      expect(() =>
        execFileSync(process.execPath, [tsc, ...flags, ...more, "steer.ts"], {
          cwd: join(home, "steer"),
          env,
        }),
      ).not.toThrow();
    } finally {
      try {
        process.kill(-(run.child.pid ?? 0), "SIGKILL");
      } catch {
        // The script and its background agents are gone already.
      }
      execFileSync("bash", ["-c", ". scripts/env.sh >/dev/null 2>&1; ferry local down || true"], {
        cwd: checkout,
        env,
        stdio: "ignore",
      });
      await rm(work, { recursive: true, force: true });
    }
  }, 600_000);
});
