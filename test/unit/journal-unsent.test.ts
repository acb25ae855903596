import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newTaskId } from "#core/ids.ts";
import { readJournal, SessionJournal } from "#sdk/index.ts";

const dir = mkdtempSync(join(tmpdir(), "ferry-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Found by the fault campaign: a client killed between journaling tasks and sending them left
// tasks its successor waited for forever. The journal now keeps each message until "sent".
describe("session journal: tasks journaled but not sent", () => {
  it("keeps the message of a task until a sent entry names it", async () => {
    const sessionId = newTaskId();
    const [a, b] = [newTaskId(), newTaskId()];
    const journal = new SessionJournal(dir, sessionId);
    const submitted = (taskId: string) => ({
      kind: "submitted" as const,
      taskId,
      endpointId: newTaskId(),
      function: { name: "f", sha256: "a".repeat(64) },
      topic: "default",
      at: 1,
      message: `{"taskId":"${taskId}"}`,
    });
    await journal.append([
      { kind: "opened", sessionId, resultQueueUrl: "q", at: 1 },
      submitted(a),
      submitted(b),
      { kind: "sent", taskIds: [a], at: 2 },
    ]);
    const summary = await readJournal(dir, sessionId);
    expect(summary?.tasks.get(a)?.unsentMessage).toBeUndefined();
    expect(summary?.tasks.get(b)?.unsentMessage).toBe(`{"taskId":"${b}"}`);
  });
});
