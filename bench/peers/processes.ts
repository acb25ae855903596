// The peers' processes (redis-server, Dask's scheduler and workers, the Celery worker, the
// Python clients), each started in a process group of its own so that stopping it takes its
// children too (Dask's worker processes, Celery's prefork pool).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** Debian's Python, where apt installs distributed and celery (not a pyenv on PATH). */
export const PYTHON = "/usr/bin/python3";
/** This folder: the Python helpers live here. */
export const PEERS_DIR = fileURLToPath(new URL(".", import.meta.url));

/** A command line's fixed part, written as one string. */
export const words = (line: string) => line.split(" ");

/** Every group started and not yet stopped, for a last SIGKILL when the run is cut short. */
const live = new Set<number>();

export interface Group {
  child: ChildProcess;
  pid: number;
  /** File with the process's stdout and stderr. */
  logFile: string;
}

/** Environment of the Python processes: Debian's packages, none of a pyenv's settings. */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { PYTHONPATH: _path, PYTHONHOME: _home, ...rest } = process.env;
  return {
    ...rest,
    PYTHONPATH: PEERS_DIR,
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONUNBUFFERED: "1",
    ...extra,
  };
}

/** Start a server-like process in its own group, output to `logFile`. */
export function spawnGroup(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
): Group {
  const fd = openSync(options.logFile, "a");
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  return track(child, options.logFile);
}

function track(child: ChildProcess, logFile: string): Group {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${child.spawnfile}`);
  live.add(pid);
  // Without a listener a failed spawn (ENOENT) would throw out of the event loop.
  child.on("error", () => undefined);
  return { child, pid, logFile };
}

/** Signal a whole group; false when none of it is left. */
const signalGroup = (pgid: number, signal: NodeJS.Signals | 0) => {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM to the whole group, SIGKILL to what is left after `graceMs`. */
export async function stopGroup(group: Group, graceMs = 5_000): Promise<void> {
  if (!live.has(group.pid)) return;
  signalGroup(group.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (signalGroup(group.pid, 0) && Date.now() < deadline) await sleep(50);
  signalGroup(group.pid, "SIGKILL");
  live.delete(group.pid);
}

/** For an exit handler: SIGKILL every group still running, synchronously. */
export function killAllGroups(): void {
  for (const pgid of live) signalGroup(pgid, "SIGKILL");
  live.clear();
}

export async function logTail(group: Group, chars = 2_000): Promise<string> {
  const text = await readFile(group.logFile, "utf8").catch(() => "");
  return text.slice(-chars).trim();
}

/** Poll `ready` until it is true; fail with the process's log when it exits or times out. */
export async function waitUntil(
  group: Group,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready().catch(() => false)) return;
    const exited = group.child.exitCode !== null || group.child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      const why = exited
        ? `exited (${group.child.exitCode ?? group.child.signalCode})`
        : "timed out";
      throw new PeerStartError(`${what} did not start: ${why}`, await logTail(group));
    }
    await sleep(100);
  }
}

/** A peer that could not be installed or started: the run's one-line error, with a log. */
export class PeerStartError extends Error {
  readonly log: string;
  constructor(message: string, log: string) {
    super(message);
    this.log = log;
  }
}

/**
 * A Python client of peer_loop.py: one command a line on stdin, one JSON line back. Its
 * stderr goes to `logFile`.
 */
export class LineClient {
  readonly group: Group;
  readonly #lines: AsyncIterator<string>;
  readonly #exited: Promise<undefined>;

  constructor(args: string[], env: NodeJS.ProcessEnv, logFile: string) {
    const fd = openSync(logFile, "a");
    const child = spawn(PYTHON, args, { env, detached: true, stdio: ["pipe", "pipe", fd] });
    this.group = track(child, logFile);
    if (!child.stdout) throw new Error("no stdout pipe");
    this.#lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    this.#exited = once(child, "exit").then(() => undefined);
  }

  /** The next JSON line; a process that exits first fails with its log. */
  async next(what: string): Promise<Record<string, unknown>> {
    const line = await Promise.race([this.#lines.next(), this.#exited]);
    if (!line || line.done) {
      throw new PeerStartError(`${what}: the client exited`, await logTail(this.group));
    }
    const reply = JSON.parse(line.value) as Record<string, unknown>;
    if (typeof reply.error === "string") throw new Error(`${what}: ${reply.error}`);
    return reply;
  }

  async request(command: string): Promise<Record<string, unknown>> {
    this.group.child.stdin?.write(`${command}\n`);
    return this.next(command);
  }

  async close(): Promise<void> {
    this.group.child.stdin?.end("quit\n");
    // Let it close its connections itself before the signal.
    await Promise.race([this.#exited, sleep(3_000)]);
    await stopGroup(this.group);
  }
}
