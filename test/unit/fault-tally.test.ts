// The fault campaign's verdict comes from its figures: a scenario fails on a lost task, a task
// surfaced twice, a failure without a reason, or (where every task should succeed) any failure.
import { describe, expect, it } from "vitest";
import type { ResultMessage } from "#core/protocol/index.ts";
import { passed, Tally } from "../faults/tally.ts";

const SESSION = "01920000-0000-7000-8000-0000000000ff";
const id = (n: number) => `01920000-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;
const base = (taskId: string) => ({
  v: 1 as const,
  taskId,
  sessionId: SESSION,
  topic: "default",
  attempt: 1,
  timings: { created: 1, sent: 1, received: 2, resultSent: 3 },
  worker: { endpointId: SESSION, host: "h", pid: 1 },
});
const ok = (taskId: string) =>
  ({ ...base(taskId), ok: true, value: { inline: 1 } }) as ResultMessage;
const failed = (taskId: string, message: string) =>
  ({
    ...base(taskId),
    ok: false,
    error: { type: "FunctionError", message, retriable: false },
  }) as ResultMessage;

function tallyOf(results: ResultMessage[], submitted: number, allOk?: boolean) {
  const tally = new Tally("t", allOk === undefined ? {} : { allOk });
  for (let n = 1; n <= submitted; n++) tally.submitted.add(id(n));
  for (const r of results) tally.surface(r);
  return tally.figures();
}

describe("fault tally", () => {
  it("passes when every task succeeded once", () => {
    const f = tallyOf([ok(id(1)), ok(id(2))], 2);
    expect(f).toMatchObject({ ok: 2, lost: 0, duplicatesSurfaced: 0, problems: [] });
    expect(passed(f)).toBe(true);
  });

  it("fails a scenario whose tasks should all succeed when one failed, even with a reason", () => {
    const f = tallyOf([ok(id(1)), failed(id(2), "boom")], 2);
    expect(f.failedWithReason).toBe(1);
    expect(f.problems).toEqual([
      "1 task(s) failed that should have succeeded (FunctionError: boom)",
    ]);
    expect(passed(f)).toBe(false);
    // A scenario with its own expectations (worker faults) counts it as explained.
    expect(passed(tallyOf([ok(id(1)), failed(id(2), "boom")], 2, false))).toBe(true);
  });

  it("fails on a lost task, a duplicate surfaced, or a failure without a reason", () => {
    expect(tallyOf([ok(id(1))], 2).lost).toBe(1);
    expect(passed(tallyOf([ok(id(1))], 2))).toBe(false);
    const twice = tallyOf([ok(id(1)), ok(id(1))], 1);
    expect(twice.duplicatesSurfaced).toBe(1);
    expect(passed(twice)).toBe(false);
    const silent = tallyOf([failed(id(1), " ")], 1, false);
    expect(silent.failedNoReason).toBe(1);
    expect(passed(silent)).toBe(false);
  });
});
