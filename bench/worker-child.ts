import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { WorkerArgs } from "./raw-queues.ts";

/**
 * Start a baseline worker (raw-responder.ts or consumer-worker.ts) as its own process, as
 * Ferry's agent is, and wait until it says it is polling.
 */
export async function startWorkerChild(script: string, args: WorkerArgs): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [JSON.stringify(args)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [message] = (await once(child, "message")) as [unknown];
  if (message !== "ready") throw new Error(`${script} did not start: ${String(message)}`);
  return child;
}

export async function stopWorkerChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
