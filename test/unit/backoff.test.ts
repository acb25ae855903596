import { describe, expect, it } from "vitest";
import { backoffDelayMs, nextDelayMs } from "#core/backoff.ts";

describe("retry timing", () => {
  it("a periodic call is jittered by 10 % and backs off up to 4x after failures", () => {
    const samples = (failures: number) =>
      Array.from({ length: 200 }, () => nextDelayMs(1_000, failures));
    for (const [failures, factor] of [
      [0, 1],
      [1, 2],
      [2, 4],
      [9, 4],
    ] as const) {
      const s = samples(failures);
      expect(Math.min(...s)).toBeGreaterThanOrEqual(900 * factor);
      expect(Math.max(...s)).toBeLessThanOrEqual(1_100 * factor);
      // Jitter: not all the same, so agents started together drift apart.
      expect(new Set(s).size).toBeGreaterThan(10);
    }
  });

  it("exponential backoff stays under its cap", () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const d = backoffDelayMs(attempt, { baseMs: 100, capMs: 2_000 });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(2_000, 100 * 2 ** attempt));
    }
  });
});
