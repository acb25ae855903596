// Keeping a tally on disk while a process runs, so that a killed run still has its counts.
import { rename, writeFile } from "node:fs/promises";
import type { RequestMeter } from "../aws/index.ts";
import { NOT_COUNTED, writeRunRequests } from "./run-requests.ts";

export interface PeriodicWrite {
  /** Stops the timer and writes once more; resolves when that write is done. */
  stop(): Promise<void>;
}

/**
 * Calls `write` every intervalMs (one at a time; a failure is passed to onError and the next
 * tick tries again), and once more on stop. The timer never keeps the process alive.
 */
export function keepWriting(
  write: () => Promise<void>,
  intervalMs: number,
  onError: (error: unknown) => void = () => undefined,
): PeriodicWrite {
  let last: Promise<void> = Promise.resolve();
  const once = () => {
    last = last.then(write).catch(onError);
    return last;
  };
  const timer = setInterval(once, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return once();
    },
  };
}

/** An agent's tally file (`ferry endpoint start --request-meter`), written whole then renamed. */
export async function writeTallyFile(path: string, meter: Pick<RequestMeter, "tally">) {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(meter.tally(), null, 2)}\n`);
  await rename(tmp, path);
}

/** A run's aws-requests.json with the client's counts so far (agents' are added later, if any). */
export function writeClientRequests(dir: string, meter: Pick<RequestMeter, "tally">) {
  return writeRunRequests(dir, {
    v: 1,
    client: meter.tally(),
    agents: [],
    notCounted: [
      "the agents' requests, unless the run collected their tallies (the local demo does)",
      ...NOT_COUNTED,
    ],
  });
}
