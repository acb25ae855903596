import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { TransientError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import type { TaskError } from "#core/protocol/index.ts";
import { describeExit, terminate } from "./child-process.ts";
import { cancelledError, type RunOutcome, type RunTask, timeoutError } from "./run-outcome.ts";
import { type Ending, forkWorker, runOn, untilReady, type WarmWorker } from "./warm-worker.ts";
import type { RunReply } from "./worker-ipc.ts";

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

  /** Run a task on a warm worker of its function, GPU and session (forked if none is idle). */
  async run(task: RunTask, bundlePath: string): Promise<RunOutcome> {
    const key = `${task.sha256}:${task.gpu ?? ""}:${task.sessionId}`;
    const worker = this.#takeIdle(key) ?? (await this.#spawn(key, task.gpu));
    worker.stdout.reset();
    worker.stderr.reset();
    // Kept until the next run: output still in the pipe when the reply came reaches this task.
    worker.sink = task.output;
    const started = Date.now();
    const ending = await runOn(worker, task, bundlePath);
    const ended = Date.now();
    if (ending.how === "reply") this.#putIdle(worker);
    else if (ending.how === "exit") {
      const log = task.logger.child({ pid: worker.child.pid });
      log.warn({ exit: ending.exit }, "node worker died while running a task");
    } else {
      // Stopped, not reused: the next task of this function forks a fresh one.
      await this.#stop(worker);
    }
    return outcomeOf(ending, worker, task, { started, ended, grace: this.#options.killGraceMs });
  }

  /** Stops every worker; running tasks end as crashed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#idle = [];
    await Promise.all([...this.#all].map((w) => this.#stop(w)));
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
    const { endpointId, passEnv, logger } = this.#options;
    const worker = forkWorker({ key, gpu, home, endpointId, passEnv, logger });
    this.#all.add(worker);
    void worker.exit.then(async () => {
      this.#all.delete(worker);
      this.#idle = this.#idle.filter((w) => w !== worker);
      await rm(home, { recursive: true, force: true }).catch(() => undefined);
    });
    await untilReady(worker);
    return worker;
  }
}

/** The run's outcome from how it ended; `ended` is when it did (a stop takes longer). */
function outcomeOf(
  ending: Ending,
  worker: WarmWorker,
  task: RunTask,
  at: { started: number; ended: number; grace: number },
): RunOutcome {
  const { started, ended } = at;
  const base = { pid: worker.child.pid, started, ended };
  const tails = { stdoutTail: worker.stdout.text(), stderrTail: worker.stderr.text() };
  switch (ending.how) {
    case "reply": {
      const reply = ending.reply;
      if (!reply.ok && isUnreachableArgs(reply)) {
        const err = new TransientError(reply.error.message);
        return { kind: "unavailable", err, what: "fetch the arguments", ...base, ...tails };
      }
      if (!reply.ok) return { kind: "failed", error: workerError(reply), ...base, ...tails };
      // The worker read its arguments itself: its work started once it had them.
      const read = reply.inputsResolved;
      const timing = read === undefined ? base : { ...base, started: read, inputsResolved: read };
      const encoded = reply.encoded ? { encoded: reply.encoded } : {};
      return { kind: "ok", value: reply.value, ...encoded, ...timing, ...tails };
    }
    case "exit": {
      const message = `worker process ${worker.child.pid} ${describeExit(ending.exit)} while running the task`;
      const error: TaskError = { type: "WorkerCrashed", message, retriable: true };
      return { kind: "failed", error, ...base, ...tails };
    }
    case "timeout":
      return { kind: "failed", error: timeoutError(task.walltimeMs, at.grace), ...base, ...tails };
    case "released":
      return { kind: "released", ...base, ...tails };
    case "cancelled": {
      const error = cancelledError(ended - started);
      return { kind: "failed", error, ...base, ended: Date.now(), ...tails };
    }
    case "protocol": {
      const error: TaskError = { type: "Internal", message: ending.detail, retriable: true };
      return { kind: "failed", error, ...base, ...tails };
    }
  }
}

/**
 * The worker's read of its arguments failed for want of the store (it retried already): the
 * task is not at fault, and goes back to the queue as when the agent itself cannot fetch them.
 */
function isUnreachableArgs(reply: Extract<RunReply, { ok: false }>): boolean {
  return reply.stage === "args" && reply.error.name === "TransientError";
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
