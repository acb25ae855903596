import { describe, expect, it } from "vitest";
import type { ResultMessage } from "#core/protocol/index.ts";
import { asCompleted, type TaskFuture } from "#sdk/index.ts";

function deferred(taskId: string) {
  let resolve!: (r: ResultMessage) => void;
  let reject!: (e: unknown) => void;
  const result = new Promise<ResultMessage>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const message = { taskId, ok: true, value: null } as unknown as ResultMessage;
  return {
    future: { taskId, result } satisfies TaskFuture,
    settle: () => resolve(message),
    reject,
  };
}

describe("asCompleted", () => {
  it("yields results in the order they settle, each once, and ends when all have", async () => {
    const [a, b, c] = ["a", "b", "c"].map(deferred);
    if (!a || !b || !c) throw new Error("setup");
    const seen: string[] = [];
    const loop = (async () => {
      for await (const r of asCompleted([a.future, b.future, c.future])) {
        seen.push(r.taskId);
        // The next one settles while this one is being handled: it must not be lost.
        if (r.taskId === "b") {
          a.settle();
          c.settle();
        }
      }
    })();
    b.settle();
    await loop;
    expect(seen).toEqual(["b", "a", "c"]);
  });

  it("ends at once for no tasks, and rejects after yielding what had arrived", async () => {
    const none: string[] = [];
    for await (const r of asCompleted([])) none.push(r.taskId);
    expect(none).toEqual([]);
    const [a, b] = ["a", "b"].map(deferred);
    if (!a || !b) throw new Error("setup");
    a.settle();
    b.reject(new Error("executor closed"));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const r of asCompleted([a.future, b.future])) seen.push(r.taskId);
      })(),
    ).rejects.toThrow("executor closed");
    expect(seen).toEqual(["a"]);
  });
});
