// The agent's cancellation watcher against the registration function's own listing code
// (functions/registration/cancellations.ts) over an in-memory registry: what it finds, how
// few calls it makes, and how it behaves when the control plane fails.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mayHaveBeenCancelled } from "#agent/agent.ts";
import { CancellationWatcher } from "#agent/cancellation.ts";
import { LATE_RECORD_MARGIN_MS } from "#agent/cancellation-feed.ts";
import type { ControlClient } from "#core/control/index.ts";
import { TransientError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import { listCancellations, recordCancellations } from "#functions/registration/cancellations.ts";
import type { RecordStore } from "#functions/registration/registry-store.ts";

const SESSION = "01920000-0000-7000-8000-0000000000ff";
const OTHER = "01920000-0000-7000-8000-0000000000ee";
const id = (n: number) => `01920000-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;
const key = (taskId: string, sessionId = SESSION) => ({ taskId, sessionId });
const T0 = 1_800_000_000_000;

/** A registry of keys only, listed in key order in pages of `pageSize`, as S3 does. */
function memoryRegistry(pageSize = 1_000) {
  const keys = new Set<string>();
  const store = {
    put: async (k: string) => void keys.add(k),
    listPage: async (prefix: string, startAfter: string) => {
      const all = [...keys].filter((k) => k.startsWith(prefix) && k > startAfter).sort();
      return { keys: all.slice(0, pageSize), truncated: all.length > pageSize };
    },
  } as unknown as RecordStore;
  return {
    store,
    cancel: (s: string, ids: string[], at: number) => recordCancellations(store, s, ids, at),
  };
}

/** A control plane answering listCancellations with the Lambda's code; it can be made to fail. */
function control(store: RecordStore) {
  const calls: { sessionId: string; after?: string }[][] = [];
  const failures: Error[] = [];
  const client = {
    async call(action: string, request: { sessions: { sessionId: string; after?: string }[] }) {
      if (action !== "listCancellations") throw new Error(`unexpected ${action}`);
      calls.push(request.sessions);
      const failure = failures.shift();
      if (failure) throw failure;
      return { sessions: await listCancellations(store, request.sessions) };
    },
  } as unknown as Pick<ControlClient, "call">;
  return { client, calls, failures };
}

function fakeLogger() {
  const warnings: string[] = [];
  const logger = {
    warn: (_: unknown, msg: string) => warnings.push(msg),
    info: () => {},
  } as unknown as Logger;
  return { logger, warnings };
}

describe("CancellationWatcher", () => {
  let watcher: CancellationWatcher | undefined;
  const run = new AbortController();
  const make = (
    c: ReturnType<typeof control>,
    logger = fakeLogger().logger,
    intervalMs = 1_000,
  ) => {
    watcher = new CancellationWatcher({
      control: c.client,
      intervalMs,
      signal: run.signal,
      logger,
    });
    return watcher;
  };
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    watcher?.stop();
    vi.useRealTimers();
  });

  it("answers a batch from one listing per session, counting only the session that cancelled", async () => {
    const reg = memoryRegistry();
    await reg.cancel(SESSION, [id(2), id(3)], T0 - 5_000);
    await reg.cancel(OTHER, [id(1)], T0 - 5_000);
    const c = control(reg.store);
    const w = make(c);
    const found = await w.check([key(id(1)), key(id(2)), key("junk"), key(id(4), OTHER)]);
    expect([...found]).toEqual([id(2)]);
    // One call, one entry per session, each read from its first record.
    expect(c.calls).toEqual([[{ sessionId: SESSION }, { sessionId: OTHER }]]);
  });

  it("answers checks within a second of the last listing without a call, and lists again after", async () => {
    const reg = memoryRegistry();
    const c = control(reg.store);
    const w = make(c);
    // 100 receive batches over 0.9 s: one listing.
    for (let i = 0; i < 100; i++) {
      expect((await w.check([key(id(i))])).size).toBe(0);
      vi.setSystemTime(T0 + i * 9);
    }
    expect(c.calls).toHaveLength(1);
    await reg.cancel(SESSION, [id(500)], T0 + 1_000);
    vi.setSystemTime(T0 + 1_100);
    expect([...(await w.check([key(id(500))]))]).toEqual([id(500)]);
    expect(c.calls).toHaveLength(2);
    // The next listing starts a margin before the newest record seen: a late writer's record
    // stamped a little earlier is still found.
    await reg.cancel(SESSION, [id(501)], T0 + 1_000 - LATE_RECORD_MARGIN_MS / 2);
    vi.setSystemTime(T0 + 2_200);
    expect([...(await w.check([key(id(501))]))]).toEqual([id(501)]);
    expect(c.calls[2]).toEqual([
      { sessionId: SESSION, after: String(T0 + 1_000 - LATE_RECORD_MARGIN_MS).padStart(13, "0") },
    ]);
  });

  it("reads every page when a session has more cancellations than one answer holds", async () => {
    const reg = memoryRegistry(2);
    const ids = Array.from({ length: 5 }, (_, i) => id(0x100 + i));
    await reg.cancel(SESSION, ids, T0 - 1_000);
    const c = control(reg.store);
    const found = await make(c).check(ids.map((t) => key(t)));
    expect([...found].sort()).toEqual(ids);
    expect(c.calls).toHaveLength(3);
    expect(c.calls[1]?.[0]?.after).toMatch(/^\d{13}-[0-9a-f-]{36}\.json$/);
  });

  it("makes checks for a session the listing in flight does not read wait for the next", async () => {
    const reg = memoryRegistry();
    await reg.cancel(OTHER, [id(9)], T0 - 1_000);
    const c = control(reg.store);
    const w = make(c);
    const first = w.check([key(id(1))]);
    const second = w.check([key(id(9), OTHER)]);
    const third = w.check([key(id(8), OTHER)]);
    expect([...(await first)]).toEqual([]);
    expect([...(await second)]).toEqual([id(9)]);
    expect((await third).size).toBe(0);
    // The second and third share one listing, of both sessions.
    expect(c.calls.map((call) => call.map((s) => s.sessionId))).toEqual([
      [SESSION],
      [SESSION, OTHER],
    ]);
  });

  it("logs a failed listing, counts it as none cancelled, backs off, and stops watched tasks once one succeeds", async () => {
    const reg = memoryRegistry();
    const c = control(reg.store);
    c.failures.push(new TransientError("cannot reach the registration function"));
    const { logger, warnings } = fakeLogger();
    const w = make(c, logger, 50);
    expect((await w.check([key(id(1))])).size).toBe(0);
    expect(warnings).toEqual(["cannot list cancelled tasks; will list again"]);
    // Backing off: a check right after answers from what is known, without a call.
    vi.setSystemTime(T0 + 800);
    expect((await w.check([key(id(1))])).size).toBe(0);
    expect(c.calls).toHaveLength(1);

    await reg.cancel(SESSION, [id(1)], T0 + 1_600);
    const a = w.watch(key(id(1)));
    const b = w.watch(key(id(2)));
    w.start();
    await vi.advanceTimersByTimeAsync(400);
    expect(a.signal.aborted).toBe(true);
    expect(b.signal.aborted).toBe(false);

    // Nothing watched: no calls at all.
    a.stop();
    b.stop();
    const before = c.calls.length;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(c.calls.length).toBe(before);
  });

  it("stops a re-delivered copy at once when its task was already found cancelled", async () => {
    const reg = memoryRegistry();
    await reg.cancel(SESSION, [id(7)], T0 - 1_000);
    const w = make(control(reg.store));
    await w.check([key(id(7))]);
    expect(w.watch(key(id(7))).signal.aborted).toBe(true);
    expect(w.watch(key(id(6))).signal.aborted).toBe(false);
  });
});

describe("which received tasks are checked before they start", () => {
  const message = (attributes: Record<string, string>) => ({ Attributes: attributes });
  it("skips a message received for the first time within a second of its sending", () => {
    const sent = 1_700_000_000_000;
    const fresh = {
      SentTimestamp: String(sent),
      ApproximateFirstReceiveTimestamp: String(sent + 40),
    };
    expect(mayHaveBeenCancelled(message({ ...fresh, ApproximateReceiveCount: "1" }))).toBe(false);
    // It waited in the queue: a client had time to cancel it.
    expect(
      mayHaveBeenCancelled(
        message({ ...fresh, ApproximateFirstReceiveTimestamp: String(sent + 1_500) }),
      ),
    ).toBe(true);
    // It came back (an agent died or released it): always checked.
    expect(mayHaveBeenCancelled(message({ ...fresh, ApproximateReceiveCount: "2" }))).toBe(true);
    // Without the timestamps nothing is known: checked.
    expect(mayHaveBeenCancelled(message({ ApproximateReceiveCount: "1" }))).toBe(true);
  });
});
