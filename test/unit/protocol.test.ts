import { describe, expect, it } from "vitest";
import { ProtocolError } from "#core/errors.ts";
import { newTaskId } from "#core/ids.ts";
import { parseJsonWith, ResultMessage, TaskMessage } from "#core/protocol/index.ts";

const validTask = () => ({
  v: 1,
  taskId: newTaskId(),
  sessionId: newTaskId(),
  endpointId: newTaskId(),
  function: { name: "hello", sha256: "a".repeat(64) },
  args: { inline: { x: 1 } },
  replyTo: "http://127.0.0.1:1/000000000000/ferry-results-x",
  created: 1,
  sent: 2,
});

describe("task message schema", () => {
  it("fills defaults for topic, walltime, attempts and resources", () => {
    const t = TaskMessage.parse(validTask());
    expect(t.topic).toBe("default");
    expect(t.walltimeSeconds).toBe(3_600);
    expect(t.maxAttempts).toBe(3);
    expect(t.resources).toEqual({ cpus: 1, gpus: 0 });
  });

  it("names the bad field in one line", () => {
    const bad = { ...validTask(), function: { name: "../etc", sha256: "x" } };
    expect(() => parseJsonWith(TaskMessage, JSON.stringify(bad), "task message")).toThrow(
      /^task message: function\.name: use letters/,
    );
  });

  it("refuses another protocol version with a hint to upgrade", () => {
    const err = (() => {
      try {
        parseJsonWith(TaskMessage, JSON.stringify({ ...validTask(), v: 2 }), "task message");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/^task message: v: unsupported protocol version/);
  });

  it("refuses bad JSON as a ProtocolError, not a crash", () => {
    expect(() => parseJsonWith(TaskMessage, "{not json", "task message")).toThrow(ProtocolError);
  });

  it("refuses a payload that is both inline and a reference", () => {
    const bad = { ...validTask(), args: { inline: 1, ref: {} } };
    expect(TaskMessage.safeParse(bad).success).toBe(false);
  });
});

describe("result message schema", () => {
  const base = {
    v: 1,
    taskId: newTaskId(),
    sessionId: newTaskId(),
    topic: "default",
    attempt: 1,
    timings: { created: 1, sent: 2, received: 3, resultSent: 4 },
    worker: { endpointId: newTaskId(), host: "h", pid: 1 },
  };
  it("a success carries a value and a failure an error, never the other", () => {
    expect(ResultMessage.safeParse({ ...base, ok: true, value: { inline: 5 } }).success).toBe(true);
    expect(
      ResultMessage.safeParse({
        ...base,
        ok: true,
        error: { type: "Timeout", message: "m", retriable: false },
      }).success,
    ).toBe(false);
    expect(
      ResultMessage.safeParse({
        ...base,
        ok: false,
        error: { type: "Timeout", message: "m", retriable: false },
      }).success,
    ).toBe(true);
  });
});
