import { describe, expect, it } from "vitest";
import { TaskFailedError, TaskTimeoutError } from "#core/errors.ts";
import { runProcess } from "../../campaigns/ipopt/simulate/run-process.ts";

const options = { cwd: process.cwd(), env: process.env };

describe("runProcess", () => {
  it("returns exit code and output, feeding stdin", async () => {
    const out = await runProcess("sh", ["-c", "cat; echo err >&2; exit 3"], {
      ...options,
      timeoutMs: 10_000,
      input: "hello",
    });
    expect(out).toMatchObject({ code: 3, stdout: "hello", stderr: "err\n" });
  });

  it("kills a process that ignores SIGTERM with SIGKILL after the grace period", async () => {
    const ignoring = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);";
    const run = runProcess(process.execPath, ["-e", ignoring], {
      ...options,
      timeoutMs: 300,
      killGraceMs: 300,
    });
    // Settles at all: the process ignores SIGTERM and would run forever without the SIGKILL.
    await expect(run).rejects.toBeInstanceOf(TaskTimeoutError);
  });

  it("says which program is missing", async () => {
    await expect(
      runProcess("no-such-program-ferry", [], { ...options, timeoutMs: 1000 }),
    ).rejects.toBeInstanceOf(TaskFailedError);
  });
});
