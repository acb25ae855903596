import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { LOCAL_BACKENDS, type LocalBackendName } from "#core/config/index.ts";
import { FerryError } from "#core/errors.ts";
import { tsLoaderExecArgv } from "#core/ts-loader.ts";

/** Starting and stopping the local deployment as a background process (`ferry local up|down`). */
const LocalState = z.object({
  pid: z.number().int(),
  backend: z.enum(LOCAL_BACKENDS),
  sqsEndpointUrl: z.string(),
  s3EndpointUrl: z.string(),
  lambdaEndpointUrl: z.string(),
  deploymentPath: z.string(),
  startedAt: z.number(),
});
export type LocalState = z.infer<typeof LocalState>;

export const localStatePath = (home: string) => join(home, "local", "state.json");
export const localLogPath = (home: string) => join(home, "local", "server.log");

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running local deployment, or undefined (a stale state file is removed). */
export async function localStatus(home: string): Promise<LocalState | undefined> {
  let state: LocalState;
  try {
    state = LocalState.parse(JSON.parse(await readFile(localStatePath(home), "utf8")));
  } catch {
    return undefined;
  }
  if (isAlive(state.pid)) return state;
  await rm(localStatePath(home), { force: true });
  return undefined;
}

export interface LocalUpOptions {
  home: string;
  /** Which emulator to start. @default "fauxqs" */
  backend?: LocalBackendName;
  /** @default 0 (a free port) */
  port?: number;
  /** How long to wait for the emulator and the synth. @default 90_000 */
  readyTimeoutMs?: number;
}

export async function localUp(
  options: LocalUpOptions,
): Promise<{ state: LocalState; started: boolean }> {
  const running = await localStatus(options.home);
  if (running) return { state: running, started: false };
  await mkdir(join(options.home, "local"), { recursive: true });
  const log = openSync(localLogPath(options.home), "w");
  const server = fileURLToPath(new URL("./server.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    [
      ...tsLoaderExecArgv(),
      server,
      ...["--home", options.home, "--port", String(options.port ?? 0)],
      ...["--backend", options.backend ?? "fauxqs"],
    ],
    { detached: true, stdio: ["ignore", log, log], env: process.env },
  );
  closeSync(log);
  let exited: number | null = null;
  child.once("exit", (code) => {
    exited = code ?? 1;
  });
  child.unref();
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (exited !== null) {
      const tail = (await readFile(localLogPath(options.home), "utf8").catch(() => "")).slice(
        -2_000,
      );
      throw new FerryError(`local deployment failed to start (exit ${exited}): ${tail.trim()}`);
    }
    const state = await localStatus(options.home);
    if (state) return { state, started: true };
    await sleep(200);
  }
  child.kill("SIGKILL");
  throw new FerryError("local deployment did not become ready in time", {
    hint: `see ${localLogPath(options.home)}`,
  });
}

/** Stop the local deployment: SIGTERM, then SIGKILL after a grace period. */
export async function localDown(home: string, graceMs = 15_000): Promise<boolean> {
  const state = await localStatus(home);
  if (!state) return false;
  process.kill(state.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(state.pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(state.pid)) process.kill(state.pid, "SIGKILL");
  await rm(localStatePath(home), { force: true });
  await rm(state.deploymentPath, { force: true });
  return true;
}
