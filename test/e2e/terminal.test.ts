// On a terminal, results never overwrite the progress bar: stdout and stderr share the
// screen, and each result line must still be whole JSON. Driven in a real pseudo-terminal
// (tmux), read back from the screen.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import type { EndpointRecord } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { connectForTest, ferryEnv, runFerryJson, startTestAgent } from "../helpers/ferry.ts";

const run = promisify(execFile);
const suffix = Math.random().toString(36).slice(2, 8);
const socket = `ferry-test-${suffix}`;
const FERRY = join(process.cwd(), "bin", "ferry.js");
let conn: Connection;
let dir: string;
let endpoint: EndpointRecord;
const agents: AgentProcess[] = [];

const shQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

beforeAll(async () => {
  conn = await connectForTest();
  dir = await mkdtemp(join(tmpdir(), "ferry-tty-"));
  await runFerryJson([
    "function",
    "register",
    "test/fixtures/functions/sleep.ts",
    "--name",
    `tty-${suffix}`,
  ]);
  endpoint = await runFerryJson<EndpointRecord>(["endpoint", "register", `tty-${suffix}`]);
  agents.push(
    await startTestAgent(endpoint.endpointId, { workers: 2, heartbeatIntervalSeconds: 1 }),
  );
}, 120_000);

afterAll(async () => {
  await run("tmux", ["-L", socket, "kill-server"]).catch(() => undefined);
  await Promise.all(agents.map((a) => a.stop(10_000)));
  conn?.close();
});

/** Run a command in a fresh tmux server's terminal and return the screen once it is done. */
async function onTerminal(command: string): Promise<{ screen: string; exit: string }> {
  const env = ferryEnv();
  const script = join(dir, `run-${Date.now()}.sh`);
  const exports = ["PATH", "FERRY_HOME", "FERRY_DEPLOYMENT", "FERRY_LOG_LEVEL"]
    .map((k) => `export ${k}=${shQuote(env[k] ?? "")}`)
    .join("\n");
  const done = join(dir, `done-${Date.now()}`);
  await writeFile(script, `${exports}\n${command}\necho "exit=$?" > ${done}\nsleep 60\n`);
  await run("tmux", ["-L", socket, "new-session", "-d", "-x", "160", "-y", "80", `bash ${script}`]);
  const deadline = Date.now() + 90_000;
  let exit = "";
  for (;;) {
    exit = await readFile(done, "utf8").catch(() => "");
    if (exit || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const { stdout } = await run("tmux", ["-L", socket, "capture-pane", "-p", "-J", "-S", "-200"]);
  await run("tmux", ["-L", socket, "kill-server"]).catch(() => undefined);
  return { screen: stdout, exit: exit.trim() };
}

it("ferry submit prints every result as a whole line above the bar, which ends complete", async () => {
  const tasks = Array.from({ length: 12 }, (_, i) => JSON.stringify({ args: { ms: 150 + i } }));
  const file = join(dir, "tasks.jsonl");
  await writeFile(file, `${tasks.join("\n")}\n`);
  const { screen } = await onTerminal(
    `node ${FERRY} submit ${file} -f tty-${suffix} -e ${endpoint.endpointId}`,
  );
  const lines = screen.split("\n").map((l) => l.trimEnd());
  const results = lines.filter((l) => l.startsWith("{"));
  expect(results).toHaveLength(12);
  // Each is whole JSON: nothing of the bar was written into it, nor it into the bar.
  for (const l of results) expect(() => JSON.parse(l)).not.toThrow();
  expect(lines.filter((l) => l.includes("results ["))).toHaveLength(1);
  expect(lines.some((l) => /results \[.*\] 12\/12 100%/.test(l))).toBe(true);
  expect(lines).toContain("ferry: 12 succeeded, 0 failed");
}, 120_000);

it("ferry campaign run keeps its progress lines whole and ends with the bar complete", async () => {
  const ml = await runFerryJson<EndpointRecord>(["endpoint", "register", `tty-ml-${suffix}`]);
  agents.push(await startTestAgent(ml.endpointId, { workers: 2 }));
  const searchSize = 6;
  const { screen, exit } = await onTerminal(
    [
      `node ${FERRY} campaign run ipopt --qc-endpoint ${endpoint.endpointId}`,
      `--ml-endpoint ${ml.endpointId} --num-qc-workers 2 --model-count 2`,
      `--search-space-limit 300 --molecules-per-ml-task 150 --search-size ${searchSize}`,
      `--retrain-frequency 3 --name tty --out ${join(dir, "runs")}`,
    ].join(" "),
  );
  const lines = screen.split("\n").map((l) => l.trimEnd());
  expect(exit, screen).toBe("exit=0");
  const bars = lines.filter((l) => l.includes("simulations ["));
  // One bar, redrawn in place, finished; no line printed into it.
  expect(bars).toHaveLength(1);
  expect(bars[0]).toMatch(new RegExp(`^simulations \\[.*\\] ${searchSize}/${searchSize} 100%`));
  // The campaign's own lines start at the left edge, whole.
  const updates = lines.filter((l) => l.includes("update "));
  expect(updates.length).toBeGreaterThan(0);
  for (const l of updates) expect(l).toMatch(/^ {2}update \d+: /);
  expect(lines.some((l) => /^campaign done in /.test(l))).toBe(true);
  expect(lines).toContain("best molecules found:");
}, 240_000);
