import { setTimeout as delay } from "node:timers/promises";

export interface BackoffOptions {
  /** First delay's upper bound. @default 500 */
  baseMs?: number;
  /** Largest delay. @default 30000 */
  capMs?: number;
}

/** Exponential backoff with full jitter: spreads retries of many agents after one outage. */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 500;
  const cap = options.capMs ?? 30_000;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.round(Math.random() * ceiling);
}

/** Wait, or stop early when the signal aborts; resolves false when aborted. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await delay(ms, undefined, signal ? { signal } : {});
    return true;
  } catch {
    return false;
  }
}

/**
 * The interval with +-10 % jitter (agents started together by one batch job must not beat in
 * step), doubled per consecutive failure up to 4x (Lambda throttling: back off, stay visible).
 */
export function nextDelayMs(intervalMs: number, failures: number): number {
  const backoff = 2 ** Math.min(failures, 2);
  return Math.round(intervalMs * backoff * (0.9 + Math.random() * 0.2));
}
