// Heartbeats go one at a time, each with the state as it is when it is sent: a final "stopped"
// never races an earlier beat to the same registry record (on s3rver that lost the record; on
// AWS the earlier state could land last and show a stopped agent as serving).
import { describe, expect, it } from "vitest";
import { Heartbeat, type HeartbeatSnapshot } from "#agent/heartbeat.ts";
import type { ControlClient } from "#core/control/index.ts";
import type { Logger } from "#core/logger.ts";

describe("Heartbeat", () => {
  it("sends one beat at a time, the newest state last", async () => {
    let inFlight = 0;
    let most = 0;
    const sent: string[] = [];
    const release: Array<() => void> = [];
    const control = {
      async call(_action: string, request: { heartbeat: { state?: string } }) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise<void>((resolve) => release.push(resolve));
        sent.push(request.heartbeat.state ?? "running");
        inFlight--;
        return { at: Date.now() };
      },
    } as unknown as Pick<ControlClient, "call">;
    let state: HeartbeatSnapshot["state"] = "running";
    const heartbeat = new Heartbeat({
      control,
      endpointId: "01920000-0000-7000-8000-0000000000ff",
      agentId: "h-1",
      host: "h",
      intervalMs: 60_000,
      snapshot: () => ({ slots: { total: 1, busy: 0 }, runningTaskIds: [], state }),
      signal: new AbortController().signal,
      logger: { warn: () => {} } as unknown as Logger,
    });
    const first = heartbeat.beat();
    while (release.length === 0) await new Promise((r) => setImmediate(r)); // first in flight
    state = "draining";
    const second = heartbeat.beat();
    state = "stopped";
    const last = heartbeat.beat();
    // Let each call answer in turn; only one is ever waiting.
    while (sent.length < 3) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    expect(await Promise.all([first, second, last])).toEqual([true, true, true]);
    expect(most).toBe(1);
    // The first beat read its state when it was sent (running); the two asked for while it was
    // in flight read theirs when their turn came, so the final word is "stopped".
    expect(sent).toEqual(["running", "stopped", "stopped"]);
  });
});
