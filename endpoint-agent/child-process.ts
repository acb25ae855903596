import type { ChildProcess } from "node:child_process";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<ExitInfo> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

/**
 * SIGTERM, then SIGKILL after `graceMs`: the function may clean up, but a stuck one cannot
 * hold its slot. With `group`, signals the whole process group (a shell function's children).
 */
export async function terminate(
  child: ChildProcess,
  graceMs: number,
  options: { group?: boolean } = {},
): Promise<ExitInfo> {
  const done = exited(child);
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (options.group && child.pid !== undefined) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // Already gone: nothing to signal.
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), graceMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
    // A group may outlive its leader; make sure nothing of the task is left behind.
    if (options.group) signal("SIGKILL");
  }
}

export function describeExit(exit: ExitInfo): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
