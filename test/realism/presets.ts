import type { RealismFaults } from "./faults.ts";

/**
 * Named settings for the fault campaign and benchmarks. Numbers: 5-40 ms is a site-to-region
 * round trip; the windows are the ones AWS documents for SQS (about 1 s before a new queue is
 * usable; 60 s before a deleted queue's name can be reused).
 */
export const realismPresets = {
  /** Latency only: what moving from loopback to a real region costs. */
  wan: {
    latencyMs: { min: 5, max: 40 },
    minLatencyOnly: ["ReceiveMessage"],
  },
  /** Latency plus the errors and windows a client meets on a bad day. */
  "bad-day": {
    latencyMs: { min: 5, max: 40 },
    minLatencyOnly: ["ReceiveMessage"],
    throttleRate: 0.02,
    serverErrorRate: 0.01,
    resetBeforeRate: 0.005,
    resetAfterRate: 0.005,
    newQueueDelayMs: 1000,
    deletedQueueWindowMs: 60_000,
  },
} as const satisfies Record<string, RealismFaults>;

export type RealismPreset = keyof typeof realismPresets;
