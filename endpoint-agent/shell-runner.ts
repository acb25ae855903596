import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "#core/backoff.ts";
import type { TaskError } from "#core/protocol/index.ts";
import { describeExit, type ExitInfo, exited, terminate } from "./child-process.ts";
import { functionEnv } from "./function-env.ts";
import {
  cancelledError,
  type RunOutcome,
  type RunOutput,
  type RunTask,
  timeoutError,
} from "./run-outcome.ts";
import { Tail } from "./tail.ts";
import type { TaskProcesses } from "./task-processes.ts";

/** SQS cannot carry more anyway; the proxy store will carry large results. */
const MAX_STDOUT_BYTES = 1_048_576;

export interface ShellRunOptions {
  /** Parent of the task's private scratch dir. */
  scratchRoot: string;
  /** SIGTERM -> SIGKILL delay. */
  killGraceMs: number;
  /** Where running process groups are noted, for a restarted agent to reap. */
  processes?: TaskProcesses;
  endpointId: string;
  /** Variables of the agent's environment the site passes on (site config `passEnv`). */
  passEnv: readonly string[];
}

/**
 * Run a `shell` function: the argv template without a shell (`{scratchDir}` and `{taskId}`
 * are substituted), `{"args": ...}` as JSON on stdin, JSON expected on stdout (the whole
 * output, or its last non-empty line), in a private scratch dir removed afterwards.
 */
export async function runShell(
  task: RunTask,
  argvTemplate: readonly string[],
  options: ShellRunOptions,
): Promise<RunOutcome> {
  const dir = await mkdtemp(join(options.scratchRoot, `${task.taskId}-`));
  let group: number | undefined;
  try {
    return await runIn(dir, task, argvTemplate, options, (pgid) => {
      group = pgid;
    });
  } finally {
    if (group !== undefined) options.processes?.forget(group);
    await rm(dir, { recursive: true, force: true }).catch((err: unknown) =>
      task.logger.warn({ err, dir }, "cannot remove a task's scratch dir"),
    );
  }
}

/** A started shell function: its process, and what it has printed so far. */
interface ShellProcess {
  child: ReturnType<typeof spawnIn>;
  command: string;
  started: number;
  stdoutTail: Tail;
  stderrTail: Tail;
  /** Stdout up to MAX_STDOUT_BYTES, the result's source; stdoutBytes counts all of it. */
  stdoutChunks: Buffer[];
  stdoutBytes: number;
  spawnError: Promise<Error>;
  closed: Promise<void>;
}

/** How the wait for a shell function ended. */
type Ending =
  | { how: "exit"; exit: ExitInfo }
  | { how: "timeout" }
  | { how: "released" }
  | { how: "cancelled" }
  | { how: "spawn"; error: Error };

async function runIn(
  dir: string,
  task: RunTask,
  argvTemplate: readonly string[],
  options: ShellRunOptions,
  onGroup: (pgid: number) => void,
): Promise<RunOutcome> {
  const argv = argvTemplate.map((a) =>
    a.replaceAll("{scratchDir}", dir).replaceAll("{taskId}", task.taskId),
  );
  const p = startProcess(argv, dir, task, options, onGroup);
  const ending = await waitForEnding(p, task);
  if (ending.how === "exit") {
    // Let the pipes drain, but a background grandchild holding them open must not hang us.
    await Promise.race([p.closed, sleep(1_000)]);
    return exitOutcome(p, ending.exit);
  }
  return await stoppedOutcome(p, ending, task, options.killGraceMs);
}

/** Spawn the function and attach to its pipes, synchronously: no event precedes its listener. */
function startProcess(
  argv: readonly string[],
  dir: string,
  task: RunTask,
  options: ShellRunOptions,
  onGroup: (pgid: number) => void,
): ShellProcess {
  const [command = "", ...rest] = argv;
  const started = Date.now();
  const child = spawnIn(command, rest, dir, task, options);
  const p: ShellProcess = {
    child,
    command,
    started,
    stdoutTail: new Tail(),
    stderrTail: new Tail(),
    stdoutChunks: [],
    stdoutBytes: 0,
    spawnError: new Promise<Error>((resolve) => child.once("error", resolve)),
    closed: new Promise<void>((resolve) => child.once("close", () => resolve())),
  };
  if (child.pid !== undefined) {
    onGroup(child.pid);
    options.processes?.record(child.pid, task.taskId);
  }
  child.stdout.on("data", (chunk: Buffer) => {
    p.stdoutTail.push(chunk);
    task.output?.write("stdout", chunk);
    p.stdoutBytes += chunk.length;
    if (p.stdoutBytes <= MAX_STDOUT_BYTES) p.stdoutChunks.push(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    p.stderrTail.push(chunk);
    task.output?.write("stderr", chunk);
  });
  // A program that ignores stdin closes it early: that is not an error.
  child.stdin.on("error", () => {});
  child.stdin.end(JSON.stringify({ args: task.args }));
  return p;
}

function spawnIn(
  command: string,
  args: readonly string[],
  dir: string,
  task: RunTask,
  options: ShellRunOptions,
) {
  return spawn(command, args, {
    cwd: dir,
    shell: false,
    // Own process group, so a walltime kill reaches the programs it starts.
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    // Built from nothing (function-env.ts): never the agent's credentials or deployment.
    env: functionEnv({
      passEnv: options.passEnv,
      home: dir,
      endpointId: options.endpointId,
      gpu: task.gpu,
      extra: { FERRY_TASK_ID: task.taskId, FERRY_SCRATCH_DIR: dir },
    }),
  });
}

/** The first of: exit, failure to start, walltime, release, cancellation. */
async function waitForEnding(p: ShellProcess, task: RunTask): Promise<Ending> {
  let timer: NodeJS.Timeout | undefined;
  let onRelease: (() => void) | undefined;
  let onCancel: (() => void) | undefined;
  return await Promise.race<Ending>([
    exited(p.child).then((exit) => ({ how: "exit" as const, exit })),
    p.spawnError.then((error) => ({ how: "spawn" as const, error })),
    new Promise<Ending>((resolve) => {
      timer = setTimeout(() => resolve({ how: "timeout" }), task.walltimeMs);
    }),
    new Promise<Ending>((resolve) => {
      onRelease = () => resolve({ how: "released" });
      if (task.release.aborted) onRelease();
      else task.release.addEventListener("abort", onRelease, { once: true });
    }),
    new Promise<Ending>((resolve) => {
      onCancel = () => resolve({ how: "cancelled" });
      if (task.cancel.aborted) onCancel();
      else task.cancel.addEventListener("abort", onCancel, { once: true });
    }),
  ]).finally(() => {
    clearTimeout(timer);
    if (onRelease) task.release.removeEventListener("abort", onRelease);
    if (onCancel) task.cancel.removeEventListener("abort", onCancel);
  });
}

/** What the run reports now (ended: now). */
function outputOf(p: ShellProcess): RunOutput {
  return {
    pid: p.child.pid,
    started: p.started,
    ended: Date.now(),
    stdoutTail: p.stdoutTail.text(),
    stderrTail: p.stderrTail.text(),
  };
}

/** A run that did not exit by itself: stopped (its process group), or never started. */
async function stoppedOutcome(
  p: ShellProcess,
  ending: Exclude<Ending, { how: "exit" }>,
  task: RunTask,
  killGraceMs: number,
): Promise<RunOutcome> {
  if (ending.how === "spawn") {
    const error = functionError(`cannot start ${p.command}: ${ending.error.message}`);
    return { kind: "failed", error, ...outputOf(p), pid: undefined };
  }
  const ranMs = Date.now() - p.started;
  await terminate(p.child, killGraceMs, { group: true });
  switch (ending.how) {
    case "timeout":
      return { kind: "failed", error: timeoutError(task.walltimeMs, killGraceMs), ...outputOf(p) };
    case "released":
      return { kind: "released", ...outputOf(p) };
    case "cancelled":
      return { kind: "failed", error: cancelledError(ranMs), ...outputOf(p) };
  }
}

/** A run that exited: ok if it exited 0 and printed a JSON result within bounds. */
function exitOutcome(p: ShellProcess, exit: ExitInfo): RunOutcome {
  const { command, stdoutBytes } = p;
  if (exit.code !== 0) {
    return {
      kind: "failed",
      error: functionError(`${command} ${describeExit(exit)}`),
      ...outputOf(p),
    };
  }
  if (stdoutBytes > MAX_STDOUT_BYTES) {
    const message = `${command} printed ${stdoutBytes} bytes on stdout, more than ${MAX_STDOUT_BYTES}`;
    return { kind: "failed", error: functionError(message), ...outputOf(p) };
  }
  const value = parseStdout(Buffer.concat(p.stdoutChunks).toString("utf8"));
  if (value === undefined) {
    const message = `${command} printed no JSON result on stdout`;
    return { kind: "failed", error: functionError(message), ...outputOf(p) };
  }
  return { kind: "ok", value, ...outputOf(p) };
}

const functionError = (message: string): TaskError => ({
  type: "FunctionError",
  message,
  retriable: false,
});

/** The whole stdout as JSON, else its last non-empty line (programs that log progress). */
function parseStdout(text: string): unknown {
  const attempts = [text.trim(), text.trim().split("\n").at(-1)?.trim() ?? ""];
  for (const candidate of attempts) {
    if (candidate === "") continue;
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      // try the next form
    }
  }
  return undefined;
}
