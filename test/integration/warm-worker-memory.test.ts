// A warm worker serves thousands of tasks: nothing of a finished task may stay reachable from
// the worker. Each task once added a reaction to the worker's exit promise that could never be
// removed, so every task's closure (its arguments included) lived as long as the worker: an
// agent grew by about 250 MiB over 7,000 no-ops (bench:peers, "Pss after the runs").
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import type { RunTask } from "#agent/run-outcome.ts";
import { forkWorker, runOn, untilReady, type WarmWorker } from "#agent/warm-worker.ts";
import { createLogger } from "#core/logger.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

describe("a warm worker after its tasks", () => {
  let worker: WarmWorker | undefined;
  afterAll(() => {
    worker?.child.kill("SIGKILL");
  });

  it("holds on to none of them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-warm-memory-"));
    const bundle = join(dir, "echo.mjs");
    await writeFile(bundle, "export default (args) => args;\n");
    const logger = createLogger({}, { level: "silent" });
    worker = forkWorker({
      key: "k",
      home: dir,
      endpointId: "e",
      gpu: undefined,
      passEnv: [],
      logger,
    });
    await untilReady(worker);
    const refs: WeakRef<RunTask>[] = [];
    const runOne = async (i: number) => {
      const task: RunTask = {
        taskId: `t-${i}`,
        sessionId: "s",
        functionName: "echo",
        sha256: "0".repeat(64),
        args: { i, pad: "x".repeat(10_000) },
        walltimeMs: 30_000,
        gpu: undefined,
        release: new AbortController().signal,
        cancel: new AbortController().signal,
        logger,
      };
      refs.push(new WeakRef(task));
      const ending = await runOn(worker as WarmWorker, task, bundle);
      expect(ending.how).toBe("reply");
    };
    for (let i = 0; i < 20; i++) await runOne(i);
    // Let the last replies' microtasks settle, then collect.
    await new Promise((r) => setTimeout(r, 50));
    gc();
    await new Promise((r) => setTimeout(r, 50));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
  });
});
