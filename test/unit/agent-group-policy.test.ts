// A group task's address and pass-on decisions (pure logic over a stub context).
import { describe, expect, it } from "vitest";
import { admitToRun } from "#agent/admit.ts";
import { PASSED_BY_ATTRIBUTE, passedByAll } from "#agent/pass-on.ts";
import type { TaskAttempt } from "#agent/task-attempt.ts";
import type { MessageJob, TaskContext } from "#agent/task-context.ts";
import type { TaskMessage } from "#core/protocol/index.ts";

const ME = "01a23000-0000-7000-8000-000000000001";
const OTHER = "01a23000-0000-7000-8000-000000000002";
const GROUP = "01a23000-0000-7000-8000-0000000000aa";
const group = { groupId: GROUP, name: "qc", queueUrl: "q", members: 2 };

const ctxOf = (extra: Partial<TaskContext>) =>
  ({
    endpointId: ME,
    config: { allowedFunctions: ["sim"], gpuIds: [] },
    ...extra,
  }) as unknown as TaskContext;
const job = { cancelledAtReceive: Promise.resolve(new Set<string>()) } as unknown as MessageJob;
const task = (endpointId: string, fn = "sim") =>
  ({
    endpointId,
    taskId: OTHER,
    function: { name: fn, sha256: "a".repeat(64) },
    resources: { cpus: 1, gpus: 0 },
  }) as unknown as TaskMessage;

describe("group tasks at admission", () => {
  it("runs a task addressed to its group, and refuses one addressed elsewhere", async () => {
    const ctx = ctxOf({ group });
    expect(await admitToRun(ctx, job, task(GROUP))).toEqual({ kind: "run" });
    const wrong = await admitToRun(ctx, job, task(ME));
    expect(wrong).toEqual({
      kind: "refused",
      reason: `task is addressed to endpoint ${ME}, not to group qc (${GROUP})`,
    });
  });

  it("passes on a group task its allow-list refuses; the endpoint's own is refused", async () => {
    expect((await admitToRun(ctxOf({ group }), job, task(GROUP, "train"))).kind).toBe("pass");
    expect((await admitToRun(ctxOf({}), job, task(ME, "train"))).kind).toBe("refused");
  });

  it("counts the members that passed a task, this one included", () => {
    const attempt = (passedBy: string | undefined, members: number) =>
      ({
        ctx: ctxOf({ group: { ...group, members } }),
        job: {
          message: {
            MessageAttributes: passedBy
              ? { [PASSED_BY_ATTRIBUTE]: { DataType: "String", StringValue: passedBy } }
              : undefined,
          },
        },
      }) as unknown as TaskAttempt;
    expect(passedByAll(attempt(undefined, 2))).toBeUndefined();
    expect(passedByAll(attempt(ME, 2))).toBeUndefined();
    expect(passedByAll(attempt(OTHER, 2))).toBe("qc");
    expect(passedByAll(attempt(undefined, 1))).toBe("qc");
  });
});
