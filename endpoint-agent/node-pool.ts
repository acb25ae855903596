import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "#core/logger.ts";
import type { TaskError } from "#core/protocol/index.ts";
import { tsLoaderExecArgv } from "#core/ts-loader.ts";
import { describeExit, type ExitInfo, exited, terminate } from "./child-process.ts";
import { functionEnv } from "./function-env.ts";
import {
  cancelledError,
  type OutputSink,
  type RunOutcome,
  type RunTask,
  timeoutError,
} from "./run-outcome.ts";
import { Tail } from "./tail.ts";
import { type RunReply, type RunRequest, WorkerMessage } from "./worker-ipc.ts";

const WORKER_SCRIPT = fileURLToPath(new URL("./node-worker.ts", import.meta.url));
/** A worker that does not say it is ready by then is broken. */
const READY_TIMEOUT_MS = 30_000;

export interface NodeWorkerPoolOptions {
  /** Idle warm workers kept in all; the least recently used goes first. */
  maxIdle: number;
  /** SIGTERM -> SIGKILL delay when a worker is stopped. */
  killGraceMs: number;
  /** Parent of each worker's own HOME and TMPDIR. */
  scratchRoot: string;
  endpointId: string;
  /** Variables of the agent's environment the site passes on (site config `passEnv`). */
  passEnv: readonly string[];
  logger: Logger;
}

interface WarmWorker {
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

type Ending =
  | { how: "reply"; reply: RunReply }
  | { how: "exit"; exit: ExitInfo }
  | { how: "timeout" }
  | { how: "released" }
  | { how: "cancelled" }
  | { how: "protocol"; detail: string };

/** Warm node workers (child_process.fork), reused across tasks of the same function. */
export class NodeWorkerPool {
  readonly #options: NodeWorkerPoolOptions;
  readonly #all = new Set<WarmWorker>();
  #idle: WarmWorker[] = [];
  #closed = false;

  constructor(options: NodeWorkerPoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#all.size;
  }

  async run(task: RunTask, bundlePath: string): Promise<RunOutcome> {
    const key = `${task.sha256}:${task.gpu ?? ""}:${task.sessionId}`;
    const worker = this.#takeIdle(key) ?? (await this.#spawn(key, task.gpu));
    const log = task.logger.child({ pid: worker.child.pid });
    worker.stdout.reset();
    worker.stderr.reset();
    // Kept until the next run: output still in the pipe when the reply came reaches this task.
    worker.sink = task.output;
    const started = Date.now();
    const ending = await this.#runOn(worker, task, bundlePath);
    const ended = Date.now();
    const base = { pid: worker.child.pid, started, ended };
    const tails = () => ({ stdoutTail: worker.stdout.text(), stderrTail: worker.stderr.text() });
    const grace = this.#options.killGraceMs;
    switch (ending.how) {
      case "reply": {
        this.#putIdle(worker);
        const reply = ending.reply;
        if (reply.ok) {
          // The worker read its arguments itself: its work started once it had them.
          const read = reply.inputsResolved;
          const timing =
            read === undefined ? base : { ...base, started: read, inputsResolved: read };
          const encoded = reply.encoded ? { encoded: reply.encoded } : {};
          return { kind: "ok", value: reply.value, ...encoded, ...timing, ...tails() };
        }
        return { kind: "failed", error: workerError(reply), ...base, ...tails() };
      }
      case "exit":
        log.warn({ exit: ending.exit }, "node worker died while running a task");
        return {
          kind: "failed",
          error: {
            type: "WorkerCrashed",
            message: `worker process ${worker.child.pid} ${describeExit(ending.exit)} while running the task`,
            retriable: true,
          },
          ...base,
          ...tails(),
        };
      case "timeout":
        await this.#stop(worker);
        return {
          kind: "failed",
          error: timeoutError(task.walltimeMs, grace),
          ...base,
          ...tails(),
        };
      case "released":
        await this.#stop(worker);
        return { kind: "released", ...base, ...tails() };
      case "cancelled":
        // The worker is stopped, not reused: the next task of this function forks a fresh one.
        await this.#stop(worker);
        return {
          kind: "failed",
          error: cancelledError(ended - started),
          ...base,
          ended: Date.now(),
          ...tails(),
        };
      case "protocol":
        await this.#stop(worker);
        return {
          kind: "failed",
          error: { type: "Internal", message: ending.detail, retriable: true },
          ...base,
          ...tails(),
        };
    }
  }

  /** Stops every worker; running tasks end as crashed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#idle = [];
    await Promise.all([...this.#all].map((w) => this.#stop(w)));
  }

  #runOn(worker: WarmWorker, task: RunTask, bundlePath: string): Promise<Ending> {
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
      const finish = (ending: Ending) => {
        clearTimeout(timer);
        worker.child.off("message", onMessage);
        task.release.removeEventListener("abort", onRelease);
        task.cancel.removeEventListener("abort", onCancel);
        resolve(ending);
      };
      worker.child.on("message", onMessage);
      task.release.addEventListener("abort", onRelease, { once: true });
      task.cancel.addEventListener("abort", onCancel, { once: true });
      void worker.exit.then((exit) => finish({ how: "exit", exit }));
      if (task.release.aborted) return onRelease();
      if (task.cancel.aborted) return onCancel();
      const request: RunRequest = {
        type: "run",
        taskId: task.taskId,
        bundlePath,
        args: task.argsRef ? null : task.args,
        ...(task.argsRef ? { argsRef: task.argsRef } : {}),
        ...(task.resultSpec ? { result: task.resultSpec } : {}),
      };
      worker.child.send(request, (err) => {
        if (err)
          finish({
            how: "protocol",
            detail: `cannot send the task to its worker: ${err.message}`,
          });
      });
    });
  }

  #takeIdle(key: string): WarmWorker | undefined {
    const i = this.#idle.findIndex((w) => w.key === key);
    if (i < 0) return undefined;
    const [worker] = this.#idle.splice(i, 1);
    return worker;
  }

  #putIdle(worker: WarmWorker): void {
    if (this.#closed || worker.child.exitCode !== null || worker.child.signalCode !== null) {
      void this.#stop(worker);
      return;
    }
    this.#idle.push(worker);
    while (this.#idle.length > this.#options.maxIdle) {
      const oldest = this.#idle.shift();
      if (oldest) void this.#stop(oldest);
    }
  }

  async #stop(worker: WarmWorker): Promise<void> {
    this.#idle = this.#idle.filter((w) => w !== worker);
    await terminate(worker.child, this.#options.killGraceMs);
  }

  /** Fork a worker and wait for it to say it is ready (or to die: then run() reports a crash). */
  async #spawn(key: string, gpu: string | undefined): Promise<WarmWorker> {
    const home = await mkdtemp(join(this.#options.scratchRoot, "worker-"));
    const child = fork(WORKER_SCRIPT, [], {
      execArgv: ["--disable-warning=ExperimentalWarning", ...tsLoaderExecArgv()],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      // Built from nothing (function-env.ts): never the agent's credentials or deployment.
      env: functionEnv({
        passEnv: this.#options.passEnv,
        home,
        endpointId: this.#options.endpointId,
        gpu,
      }),
      serialization: "advanced",
    });
    const worker: WarmWorker = {
      child,
      key,
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
    child.on("error", (error) => this.#options.logger.warn({ err: error }, "node worker error"));
    this.#all.add(worker);
    void worker.exit.then(async () => {
      this.#all.delete(worker);
      this.#idle = this.#idle.filter((w) => w !== worker);
      await rm(home, { recursive: true, force: true }).catch(() => undefined);
    });
    await new Promise<void>((resolve) => {
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
    return worker;
  }
}

/** A worker's failure as the task's error: the function's own, or reading or storing data. */
function workerError(reply: Extract<RunReply, { ok: false }>): TaskError {
  const e = reply.error;
  const stack = e.stack ? { stack: e.stack } : {};
  if (reply.stage === "args")
    return { type: "InputError", message: `arguments: ${e.message}`, retriable: false };
  if (reply.stage === "result")
    return { type: "Internal", message: `result: ${e.message}`, retriable: false };
  return { type: "FunctionError", message: `${e.name}: ${e.message}`, retriable: false, ...stack };
}
