import { describe, expect, it } from "vitest";
import { type EntryOutcome, RequestBatcher } from "#core/aws/index.ts";

/** A send whose calls the test finishes by hand, recording each batch. */
function manualSend() {
  const batches: number[][] = [];
  const finishers: ((outcomes: EntryOutcome[] | Error) => void)[] = [];
  const send = (items: number[]) =>
    new Promise<EntryOutcome[]>((resolve, reject) => {
      batches.push(items);
      finishers.push((o) => (o instanceof Error ? reject(o) : resolve(o)));
    });
  const ok = (n: number): EntryOutcome[] => Array.from({ length: n }, () => ({ ok: true }));
  return { batches, finishers, send, ok };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("RequestBatcher", () => {
  it("sends at once when idle, and groups what comes while requests are in flight", async () => {
    const m = manualSend();
    const b = new RequestBatcher<number>({ send: m.send, maxItems: 3, maxInFlight: 1 });
    const first = b.add(0);
    await tick();
    expect(m.batches).toEqual([[0]]);
    const rest = [1, 2, 3, 4].map((i) => b.add(i));
    await tick();
    expect(m.batches).toHaveLength(1); // one request at a time
    m.finishers[0]?.(m.ok(1));
    await first;
    await tick();
    expect(m.batches[1]).toEqual([1, 2, 3]); // at most maxItems
    m.finishers[1]?.(m.ok(3));
    await tick();
    expect(m.batches[2]).toEqual([4]);
    m.finishers[2]?.(m.ok(1));
    await Promise.all(rest);
    expect(b.idle).toBe(true);
  });

  it("fails only the entries the response fails, and every entry of a failed request", async () => {
    const m = manualSend();
    const b = new RequestBatcher<number>({ send: m.send, maxInFlight: 1 });
    const a = b.add(0);
    await tick();
    const pending = [b.add(1), b.add(2)];
    m.finishers[0]?.(m.ok(1));
    await a;
    await tick();
    m.finishers[1]?.([{ ok: true }, { ok: false, error: new Error("entry 2 refused") }]);
    await expect(pending[0]).resolves.toBeUndefined();
    await expect(pending[1]).rejects.toThrow("entry 2 refused");

    const c = b.add(3);
    await tick();
    m.finishers[2]?.(new Error("network down"));
    await expect(c).rejects.toThrow("network down");
    expect(b.idle).toBe(true);
  });

  it("keeps a batch within its byte budget, and drain waits for everything added", async () => {
    const m = manualSend();
    const b = new RequestBatcher<number>({
      send: m.send,
      maxInFlight: 1,
      maxBytes: 10,
      sizeOf: (n) => n,
    });
    const all = [b.add(1), b.add(6), b.add(5), b.add(12)];
    let drained = false;
    const drain = b.drain().then(() => {
      drained = true;
    });
    await tick();
    expect(m.batches).toEqual([[1]]);
    m.finishers[0]?.(m.ok(1));
    await tick();
    // 6 + 5 > 10: apart; an item over the budget alone still goes.
    expect(m.batches[1]).toEqual([6]);
    m.finishers[1]?.(m.ok(1));
    await tick();
    expect(m.batches[2]).toEqual([5]);
    m.finishers[2]?.(m.ok(1));
    await tick();
    expect(m.batches[3]).toEqual([12]);
    expect(drained).toBe(false);
    m.finishers[3]?.(m.ok(1));
    await drain;
    await Promise.all(all);
    expect(drained).toBe(true);
  });
});
