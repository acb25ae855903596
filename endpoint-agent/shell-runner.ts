import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "#core/backoff.ts";
import { describeExit, type ExitInfo, exited, terminate } from "./child-process.ts";
import { functionEnv } from "./function-env.ts";
import { cancelledError, type RunOutcome, type RunTask, timeoutError } from "./run-outcome.ts";
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
  const [command = "", ...rest] = argv;
  const stdoutTail = new Tail();
  const stderrTail = new Tail();
  const stdoutChunks: Buffer[] = [];
  let stdoutBytes = 0;
  const started = Date.now();
  const child = spawn(command, rest, {
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
  const output = () => ({
    pid: child.pid,
    started,
    ended: Date.now(),
    stdoutTail: stdoutTail.text(),
    stderrTail: stderrTail.text(),
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  if (child.pid !== undefined) {
    onGroup(child.pid);
    options.processes?.record(child.pid, task.taskId);
  }
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  child.stdout.on("data", (chunk: Buffer) => {
    stdoutTail.push(chunk);
    task.output?.write("stdout", chunk);
    stdoutBytes += chunk.length;
    if (stdoutBytes <= MAX_STDOUT_BYTES) stdoutChunks.push(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderrTail.push(chunk);
    task.output?.write("stderr", chunk);
  });
  // A program that ignores stdin closes it early: that is not an error.
  child.stdin.on("error", () => {});
  child.stdin.end(JSON.stringify({ args: task.args }));

  let timer: NodeJS.Timeout | undefined;
  let onRelease: (() => void) | undefined;
  let onCancel: (() => void) | undefined;
  type Ending =
    | { how: "exit"; exit: ExitInfo }
    | { how: "timeout" }
    | { how: "released" }
    | { how: "cancelled" }
    | {
        how: "spawn";
        error: Error;
      };
  const ending = await Promise.race<Ending>([
    exited(child).then((exit) => ({ how: "exit" as const, exit })),
    spawnError.then((error) => ({ how: "spawn" as const, error })),
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

  switch (ending.how) {
    case "spawn":
      return {
        kind: "failed",
        error: {
          type: "FunctionError",
          message: `cannot start ${command}: ${ending.error.message}`,
          retriable: false,
        },
        ...output(),
        pid: undefined,
      };
    case "timeout":
      await terminate(child, options.killGraceMs, { group: true });
      return {
        kind: "failed",
        error: timeoutError(task.walltimeMs, options.killGraceMs),
        ...output(),
      };
    case "released":
      await terminate(child, options.killGraceMs, { group: true });
      return { kind: "released", ...output() };
    case "cancelled": {
      const ranMs = Date.now() - started;
      await terminate(child, options.killGraceMs, { group: true });
      return { kind: "failed", error: cancelledError(ranMs), ...output() };
    }
    case "exit":
      break;
  }
  // Let the pipes drain, but a background grandchild holding them open must not hang us.
  await Promise.race([closed, sleep(1_000)]);
  const exit = ending.exit;
  if (exit.code !== 0) {
    return {
      kind: "failed",
      error: {
        type: "FunctionError",
        message: `${command} ${describeExit(exit)}`,
        retriable: false,
      },
      ...output(),
    };
  }
  if (stdoutBytes > MAX_STDOUT_BYTES) {
    return {
      kind: "failed",
      error: {
        type: "FunctionError",
        message: `${command} printed ${stdoutBytes} bytes on stdout, more than ${MAX_STDOUT_BYTES}`,
        retriable: false,
      },
      ...output(),
    };
  }
  const value = parseStdout(Buffer.concat(stdoutChunks).toString("utf8"));
  if (value === undefined) {
    return {
      kind: "failed",
      error: {
        type: "FunctionError",
        message: `${command} printed no JSON result on stdout`,
        retriable: false,
      },
      ...output(),
    };
  }
  return { kind: "ok", value, ...output() };
}

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
