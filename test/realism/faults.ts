/** The AWS services a proxy can stand in front of. */
export type RealismService = "sqs" | "s3" | "lambda";

/**
 * How unfriendly the proxy is. Everything is off by default; rates are probabilities per request
 * (0..1), drawn from the proxy's seeded generator.
 */
export interface RealismFaults {
  /** Extra delay per call, uniform in [min, max] ms: the WAN between an HPC site and a region. */
  latencyMs?: { min: number; max: number } | undefined;
  /**
   * Operations that get only `latencyMs.min`: a 20 s ReceiveMessage long poll should still
   * behave as one, not pay a random WAN tail on top that no real long poll pays twice.
   */
  minLatencyOnly?: readonly string[] | undefined;
  /** Answer, without forwarding, with the service's own throttling error. */
  throttleRate?: number | undefined;
  /** Answer, without forwarding, with a 500 or 503 in the service's format. */
  serverErrorRate?: number | undefined;
  /** Destroy the client socket before forwarding: the request never reached AWS. */
  resetBeforeRate?: number | undefined;
  /** Forward, let the upstream act, then destroy the client socket: it happened, unseen. */
  resetAfterRate?: number | undefined;
  /** SQS: after a CreateQueue, requests naming the queue get QueueDoesNotExist for this long. */
  newQueueDelayMs?: number | undefined;
  /** SQS: after a DeleteQueue, CreateQueue of that name gets QueueDeletedRecently this long. */
  deletedQueueWindowMs?: number | undefined;
  /**
   * SQS: the deleted queue keeps working for a seeded part of the window (AWS: requests "might
   * succeed" during the 60 s). The proxy answers DeleteQueue itself and deletes upstream later.
   */
  deletedQueueLingers?: boolean | undefined;
  /** Only these operations get latency and random faults (the windows are AWS rules: always). */
  only?: readonly string[] | undefined;
  /** These operations never get latency or random faults. */
  except?: readonly string[] | undefined;
}

/** The random (per-request) fault kinds and the rule-based ones, as counted in stats. */
export type FaultKind =
  | "latency"
  | "throttle"
  | "serverError"
  | "resetBefore"
  | "resetAfter"
  | "queueNotYetVisible"
  | "queueDeletedRecently"
  | "deletedQueueLinger";

/** Whether `operation` is in scope for latency and random faults under `faults`. */
export function isTargeted(faults: RealismFaults, operation: string): boolean {
  if (faults.only && !faults.only.includes(operation)) return false;
  return !faults.except?.includes(operation);
}

/** Later settings win key by key; an explicit `undefined` switches a setting off. */
export function mergeFaults(base: RealismFaults, change: Partial<RealismFaults>): RealismFaults {
  return { ...base, ...change };
}

/** Rejects settings that would silently do something other than asked. */
export function validateFaults(faults: RealismFaults): void {
  for (const key of ["throttleRate", "serverErrorRate", "resetBeforeRate", "resetAfterRate"]) {
    const rate = faults[key as keyof RealismFaults];
    if (rate !== undefined && (typeof rate !== "number" || !(rate >= 0 && rate <= 1))) {
      throw new RangeError(`${key} must be a probability in [0, 1], got ${String(rate)}`);
    }
  }
  const latency = faults.latencyMs;
  if (latency && !(latency.min >= 0 && latency.max >= latency.min)) {
    throw new RangeError(`latencyMs needs 0 <= min <= max, got ${latency.min}..${latency.max}`);
  }
}
