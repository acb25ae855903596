import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Logger } from "#core/logger.ts";
import { tsLoaderExecArgv } from "#core/ts-loader.ts";
import { type ExitInfo, exited } from "./child-process.ts";
import { functionEnv } from "./function-env.ts";
import type { OutputSink, RunTask } from "./run-outcome.ts";
import { inOneFile, NODE_WORKER_ROLE } from "./sea-worker.ts";
import { Tail } from "./tail.ts";
import { type RunReply, type RunRequest, WorkerMessage } from "./worker-ipc.ts";

// One node worker process (node-worker.ts) as the pool sees it: forked, ready, and one task
// run on it at a time. The pool (node-pool.ts) decides which worker runs what, and when one
// is stopped.

const WORKER_SCRIPT = fileURLToPath(new URL("./node-worker.ts", import.meta.url));

/** What to fork: the worker script, or the one-file agent itself in its worker role. */
function workerEntry(): { modulePath: string; execArgv: string[] } {
  if (inOneFile()) return { modulePath: NODE_WORKER_ROLE, execArgv: [] };
  return {
    modulePath: WORKER_SCRIPT,
    execArgv: ["--disable-warning=ExperimentalWarning", ...tsLoaderExecArgv()],
  };
}
/** A worker that does not say it is ready by then is broken. */
const READY_TIMEOUT_MS = 30_000;

/** A forked node worker. */
export interface WarmWorker {
  readonly child: ChildProcess;
  /**
   * Function hash, GPU and session: a worker pinned to one GPU cannot serve another, and one
   * session's tasks never share a process (module state, files in its HOME) with another's.
   */
  readonly key: string;
  readonly stdout: Tail;
  readonly stderr: Tail;
  /** The live output of the task it runs (or last ran), if that task has one. */
  sink: OutputSink | undefined;
  readonly exit: Promise<ExitInfo>;
}

/** How a task's run on a worker ended. */
export type Ending =
  | { how: "reply"; reply: RunReply }
  | { how: "exit"; exit: ExitInfo }
  | { how: "timeout" }
  | { how: "released" }
  | { how: "cancelled" }
  | { how: "protocol"; detail: string };

/** What a worker is forked with: its pool key, GPU, HOME, and environment. */
export interface ForkOptions {
  key: string;
  gpu: string | undefined;
  /** The worker's own HOME and TMPDIR. */
  home: string;
  endpointId: string;
  /** Variables of the agent's environment the site passes on (site config `passEnv`). */
  passEnv: readonly string[];
  logger: Logger;
}

/** Fork a worker; its output goes to its tails and to the sink of the task it runs. */
export function forkWorker(o: ForkOptions): WarmWorker {
  const { modulePath, execArgv } = workerEntry();
  const child = fork(modulePath, [], {
    execArgv,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    // Built from nothing (function-env.ts): never the agent's credentials or deployment.
    env: functionEnv({ passEnv: o.passEnv, home: o.home, endpointId: o.endpointId, gpu: o.gpu }),
    serialization: "advanced",
  });
  const worker: WarmWorker = {
    child,
    key: o.key,
    stdout: new Tail(),
    stderr: new Tail(),
    sink: undefined,
    exit: exited(child),
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    worker.stdout.push(chunk);
    worker.sink?.write("stdout", chunk);
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    worker.stderr.push(chunk);
    worker.sink?.write("stderr", chunk);
  });
  child.on("error", (error) => o.logger.warn({ err: error }, "node worker error"));
  return worker;
}

/** Resolves when the worker says it is ready, dies, or takes too long (run() reports that). */
export function untilReady(worker: WarmWorker): Promise<void> {
  const { child } = worker;
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, READY_TIMEOUT_MS);
    function done() {
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve();
    }
    function onMessage(raw: unknown) {
      if (WorkerMessage.safeParse(raw).data?.type === "ready") done();
    }
    child.on("message", onMessage);
    void worker.exit.then(done);
  });
}

/** Send the task to the worker and wait for the first of its reply, exit, or a stop. */
export function runOn(worker: WarmWorker, task: RunTask, bundlePath: string): Promise<Ending> {
  return new Promise<Ending>((resolve) => {
    const onMessage = (raw: unknown) => {
      const parsed = WorkerMessage.safeParse(raw);
      if (!parsed.success) {
        finish({ how: "protocol", detail: "node worker sent a malformed message" });
      } else if (parsed.data.type === "done" && parsed.data.taskId === task.taskId) {
        finish({ how: "reply", reply: parsed.data });
      }
    };
    const onRelease = () => finish({ how: "released" });
    const onCancel = () => finish({ how: "cancelled" });
    const timer = setTimeout(() => finish({ how: "timeout" }), task.walltimeMs);
    // A listener, not `worker.exit.then`: a reaction on the worker's exit promise can never be
    // removed, and one per task kept every task's closure (its arguments included) alive for
    // the worker's whole life, about 30 kB a no-op task.
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish({ how: "exit", exit: { code, signal } });
    const finish = (ending: Ending) => {
      clearTimeout(timer);
      worker.child.off("message", onMessage);
      worker.child.off("exit", onExit);
      task.release.removeEventListener("abort", onRelease);
      task.cancel.removeEventListener("abort", onCancel);
      resolve(ending);
    };
    worker.child.on("message", onMessage);
    task.release.addEventListener("abort", onRelease, { once: true });
    task.cancel.addEventListener("abort", onCancel, { once: true });
    const { exitCode, signalCode } = worker.child;
    if (exitCode !== null || signalCode !== null) return onExit(exitCode, signalCode);
    worker.child.once("exit", onExit);
    if (task.release.aborted) return onRelease();
    if (task.cancel.aborted) return onCancel();
    worker.child.send(runRequest(task, bundlePath), (err) => {
      if (err)
        finish({ how: "protocol", detail: `cannot send the task to its worker: ${err.message}` });
    });
  });
}

function runRequest(task: RunTask, bundlePath: string): RunRequest {
  return {
    type: "run",
    taskId: task.taskId,
    bundlePath,
    args: task.argsRef ? null : task.args,
    ...(task.argsRef ? { argsRef: task.argsRef } : {}),
    ...(task.resultSpec ? { result: task.resultSpec } : {}),
  };
}
