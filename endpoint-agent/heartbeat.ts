import { nextDelayMs } from "#core/backoff.ts";
import type { ControlClient } from "#core/control/index.ts";
import type { Logger } from "#core/logger.ts";
import type { ControlData } from "#core/protocol/index.ts";
import { FERRY_VERSION } from "#core/version.ts";

export interface HeartbeatSnapshot {
  slots: { total: number; busy: number };
  runningTaskIds: string[];
  state: "running" | "draining" | "stopped";
}

export interface HeartbeatOptions {
  control: Pick<ControlClient, "call">;
  endpointId: string;
  agentId: string;
  host: string;
  /** GPUs the site config names (gpuIds), so that clients can pick a GPU backend. */
  gpus?: number;
  intervalMs: number;
  snapshot: () => HeartbeatSnapshot;
  /** Each answer: it names the groups the endpoint serves (the agent polls their queues). */
  answered?: (answer: ControlData<"heartbeat">) => void;
  signal: AbortSignal;
  logger: Logger;
}

/** Reports this agent's slots and running tasks to the registry every interval. */
export class Heartbeat {
  readonly #o: HeartbeatOptions;
  #timer: NodeJS.Timeout | undefined;
  #soonTimer: NodeJS.Timeout | undefined;
  #lastSoon = 0;
  #stopped = false;
  /**
   * The beat in flight. Beats go one at a time: two PUTs of one heartbeat record race, and an
   * earlier state (running) landing after a later one (stopped) would show a stopped agent as
   * serving (on AWS the last to arrive wins; s3rver can even lose the record).
   */
  #inFlight: Promise<boolean> = Promise.resolve(true);

  constructor(options: HeartbeatOptions) {
    this.#o = options;
  }

  start(): void {
    let failures = 0;
    const tick = async () => {
      failures = (await this.beat()) ? 0 : failures + 1;
      if (!this.#stopped) this.#timer = setTimeout(tick, nextDelayMs(this.#o.intervalMs, failures));
    };
    void tick();
  }

  /**
   * One heartbeat, after the one in flight; a failure is logged, never fatal: status just turns
   * stale. False when it failed (the next one then waits longer: a throttled control plane
   * needs fewer calls).
   */
  beat(): Promise<boolean> {
    const next = this.#inFlight.then(() => this.#send());
    this.#inFlight = next;
    return next;
  }

  /** Sends the state as it is when the send starts, so the newest state is the last to go. */
  async #send(): Promise<boolean> {
    const snap = this.#o.snapshot();
    try {
      const answer = await this.#o.control.call(
        "heartbeat",
        {
          heartbeat: {
            endpointId: this.#o.endpointId,
            agentId: this.#o.agentId,
            slots: snap.slots,
            runningTaskIds: snap.runningTaskIds.slice(0, 1_000),
            versions: { ferry: FERRY_VERSION, node: process.version },
            host: this.#o.host,
            pid: process.pid,
            ...(this.#o.gpus === undefined ? {} : { gpus: this.#o.gpus }),
            ...(snap.state === "running" ? {} : { state: snap.state }),
          },
        },
        { signal: this.#o.signal },
      );
      this.#o.answered?.(answer);
      return true;
    } catch (err) {
      if (!this.#o.signal.aborted) this.#o.logger.warn({ err }, "heartbeat failed");
      return false;
    }
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#soonTimer);
  }

  /**
   * Beat now instead of at the next interval (a task started, the agent began to drain): the
   * first task after a quiet spell shows as running at once. Calls coalesce to one per
   * SOON_MIN_GAP_MS, so a busy agent's starts cost a beat (a Lambda call and two S3
   * requests) every 5 s, not every second: about 2 control-plane requests per 1,000 no-ops.
   */
  soon(): void {
    if (this.#stopped || this.#soonTimer !== undefined) return;
    const wait = Math.max(0, this.#lastSoon + SOON_MIN_GAP_MS - Date.now());
    this.#soonTimer = setTimeout(() => {
      this.#soonTimer = undefined;
      this.#lastSoon = Date.now();
      if (!this.#stopped) void this.beat();
    }, wait);
  }
}

/** Least time between two early beats (soon). */
const SOON_MIN_GAP_MS = 5_000;

/** A registry-safe agent id: host and pid. */
export function agentIdFor(host: string, pid: number): string {
  const safeHost = host.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "host";
  return `${safeHost.slice(0, 50)}-${pid}`;
}
