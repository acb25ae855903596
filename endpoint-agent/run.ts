import type { TaskInputs } from "./inputs.ts";
import { liveLogFor } from "./live-log.ts";
import type { RunOutcome, RunTask } from "./run-outcome.ts";
import { runShell } from "./shell-runner.ts";
import type { TaskAttempt } from "./task-attempt.ts";
import type { TaskContext } from "./task-context.ts";
import type { TaskData } from "./task-data.ts";
import type { ResultSpec } from "./worker-ipc.ts";

// The run stage: the function runs in its runner (node-pool.ts or shell-runner.ts), its
// output published live when someone may follow it.

/**
 * Run the task's function until it ends, times out, is cancelled (`cancel`) or released for
 * shutdown. Sets the attempt's live log, which the deliver stage ends and the handler stops.
 */
export async function runStage(
  a: TaskAttempt,
  inputs: TaskInputs,
  data: TaskData,
  cancel: AbortSignal,
): Promise<RunOutcome> {
  const { ctx, task, job } = a;
  const { spec } = inputs.record;
  a.live = liveLogFor(liveLogOptions(ctx, a.log), task, a.attempt);
  const run: RunTask = {
    taskId: task.taskId,
    sessionId: task.sessionId,
    functionName: task.function.name,
    sha256: task.function.sha256,
    args: inputs.args,
    walltimeMs: walltimeSeconds(a) * 1000,
    ...(inputs.argsRef ? { argsRef: inputs.argsRef } : {}),
    ...(spec.kind === "node"
      ? specOf(data.resultSpec(task.topic, task.resultStore, task.objectOwner))
      : {}),
    gpu: job.slot.gpu,
    release: job.release,
    cancel,
    ...(a.live ? { output: a.live } : {}),
    logger: a.log,
  };
  a.live?.start();
  a.log.info({ attempt: a.attempt, gpu: job.slot.gpu }, "task started");
  return spec.kind === "shell"
    ? await runShell(run, spec.argv, {
        scratchRoot: ctx.config.scratchDir,
        endpointId: ctx.endpointId,
        passEnv: ctx.config.passEnv,
        killGraceMs: ctx.config.killGraceSeconds * 1000,
        processes: ctx.processes,
      })
    : await ctx.pool.run(run, inputs.bundlePath ?? "");
}

const specOf = (resultSpec: ResultSpec | undefined) => (resultSpec ? { resultSpec } : {});

const liveLogOptions = (ctx: TaskContext, logger: TaskContext["logger"]) => ({
  s3: ctx.deps.s3,
  bucket: ctx.deps.bucket,
  endpointId: ctx.endpointId,
  intervalSeconds: ctx.config.liveLogIntervalSeconds,
  signal: ctx.runSignal,
  logger,
});

/** The task's own walltime if its sender chose one, else the site's default. */
function walltimeSeconds(a: TaskAttempt): number {
  return hasOwnWalltime(a.body) ? a.task.walltimeSeconds : a.ctx.config.defaultWalltimeSeconds;
}

/** Whether the sender chose a walltime; the schema's default would hide that. */
function hasOwnWalltime(body: string): boolean {
  try {
    const raw = JSON.parse(body) as Record<string, unknown>;
    return raw.walltimeSeconds !== undefined;
  } catch {
    return false;
  }
}
