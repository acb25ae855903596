import { spawn } from "node:child_process";
import { TaskFailedError } from "#core/errors.ts";
import { type MpnnEntry, mpnnArgv } from "./source.ts";

/**
 * Runs mpnn.py here, as an agent would run the shell function (same argv, `{"args"}` on stdin,
 * JSON on stdout), without a deployment: for benchmarks on a bare GPU host.
 * @throws TaskFailedError with the script's last stderr line when it exits non-zero
 */
export async function runMpnnLocally<R>(
  python: string,
  entry: MpnnEntry,
  args: unknown,
  env: NodeJS.ProcessEnv = process.env,
): Promise<R> {
  const [command = python, ...rest] = mpnnArgv(python, entry);
  const child = spawn(command, rest, { stdio: ["pipe", "pipe", "pipe"], env });
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => stdout.push(c));
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdin.on("error", () => {});
  child.stdin.end(JSON.stringify({ args }));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", (error) =>
      reject(new TaskFailedError(`cannot start ${python}: ${error.message}`)),
    );
    child.once("close", resolve);
  });
  if (code !== 0) {
    const last = stderr.trim().split("\n").at(-1) ?? "";
    throw new TaskFailedError(`mpnn ${entry} exited with ${code}: ${last}`);
  }
  return JSON.parse(Buffer.concat(stdout).toString("utf8")) as R;
}
