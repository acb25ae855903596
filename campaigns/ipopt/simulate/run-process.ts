import { spawn } from "node:child_process";
import { TaskFailedError, TaskTimeoutError } from "#core/errors.ts";

export interface RunProcessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Kill the process (SIGTERM, then SIGKILL) after this long. */
  timeoutMs: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Time between SIGTERM and SIGKILL. @default 2000 */
  killGraceMs?: number;
}

export interface ProcessOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one program to completion; throws TaskTimeoutError past the deadline. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunProcessOptions,
): Promise<ProcessOutput> {
  const { cwd, env, timeoutMs, input, killGraceMs = 2000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), killGraceMs);
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(
        new TaskFailedError(`cannot run ${command}: ${error.message}`, {
          cause: error,
          hint: `is ${command} installed and on PATH?`,
        }),
      );
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      if (timedOut) {
        reject(new TaskTimeoutError(`${command} ran past its walltime of ${timeoutMs} ms`));
        return;
      }
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
    // A program that exits before reading stdin closes the pipe: ignore EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}
