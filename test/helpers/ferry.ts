import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import { type AgentProcess, spawnAgent } from "#local/index.ts";
import { waitForEndpointsOnline } from "#sdk/index.ts";

const FERRY_BIN = fileURLToPath(new URL("../../bin/ferry.js", import.meta.url));

let fileHome: string | undefined;

/**
 * This test file's own FERRY_HOME under the suite's: session journals ("the latest session"),
 * caches and spools of one file never mix with another's running beside it. Each test file
 * loads this module afresh, so the directory is per file.
 */
function ownHome(): string {
  fileHome ??= mkdtempSync(join(inject("ferryHome"), "file-"));
  return fileHome;
}

/** Environment that points the CLI, agents and SDK at the suite's deployment. */
export function ferryEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    FERRY_HOME: ownHome(),
    FERRY_DEPLOYMENT: inject("deploymentPath"),
    FERRY_LOG_LEVEL: process.env.FERRY_LOG_LEVEL ?? "warn",
    ...extra,
  };
}

export function connectForTest(): Promise<Connection> {
  return connect(loadEnv(ferryEnv()));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real `ferry` command as a child process; `input` is written to its stdin. */
export function runFerry(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [FERRY_BIN, ...args],
      {
        env: options.env ?? ferryEnv(),
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Run `ferry ... --json` and parse its stdout. */
export async function runFerryJson<T = unknown>(
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<T> {
  const r = await runFerry([...args, "--json"], env ? { env } : {});
  if (r.code !== 0) throw new Error(`ferry ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * Start `ferry endpoint start <id>` as a child process with a site config written to a temp
 * file, and wait until the endpoint reports online. The caller stops it (agent.stop()).
 */
export async function startTestAgent(
  endpointId: string,
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv = ferryEnv(),
): Promise<AgentProcess> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-agent-"));
  const configPath = join(dir, "site.json");
  await writeFile(configPath, JSON.stringify(config));
  const agent = spawnAgent({ endpointId, env, configPath });
  const conn = await connect(loadEnv(env));
  try {
    await waitForEndpointsOnline(conn.control, [endpointId], 60_000);
  } catch (error) {
    await agent.stop(10_000);
    throw error;
  } finally {
    conn.close();
  }
  return agent;
}
