import type { Group, LineClient } from "./processes.ts";
import { stopGroup } from "./processes.ts";

export type PeerName = "Ferry" | "Dask" | "Celery+Redis";

/** One system under test, up with its workers, driven the same way as the others. */
export interface Peer {
  name: PeerName;
  /** `n` no-ops one after another: each one's submit-to-result time, ms. */
  roundtrip(n: number): Promise<number[]>;
  /** `n` no-ops submitted at once: seconds from the first submit to the last result. */
  batch(n: number): Promise<number>;
  /** Roots of the worker side's process trees (not the client, scheduler or broker). */
  workerSidePids: number[];
  versions: Record<string, string>;
  /** Stops every process it started, whatever state they are in. */
  stop(): Promise<void>;
}

/** Stops the groups last-started first: clients before the workers, workers before brokers. */
export async function stopAll(groups: readonly Group[]): Promise<void> {
  for (const group of [...groups].reverse()) await stopGroup(group);
}

/** A Python peer: its client speaks peer_loop.py; `groups` are its servers, client last. */
export async function pythonPeer(
  name: PeerName,
  client: LineClient,
  groups: readonly Group[],
  workerSide: Group,
): Promise<Peer> {
  const ready = await client.next(`${name} client`);
  return {
    name,
    workerSidePids: [workerSide.pid],
    versions: (ready.versions ?? {}) as Record<string, string>,
    async roundtrip(n) {
      const { ms } = await client.request(`roundtrip ${n}`);
      if (!Array.isArray(ms) || ms.length !== n) throw new Error(`${name}: bad roundtrip reply`);
      return ms as number[];
    },
    async batch(n) {
      const { s } = await client.request(`batch ${n}`);
      if (typeof s !== "number") throw new Error(`${name}: bad batch reply`);
      return s;
    },
    async stop() {
      await client.close();
      await stopAll(groups);
    },
  };
}

/** Run `start` with a list its processes go on; stop them all when it fails part way. */
export async function startedOrStopped(start: (groups: Group[]) => Promise<Peer>): Promise<Peer> {
  const groups: Group[] = [];
  try {
    return await start(groups);
  } catch (error) {
    await stopAll(groups);
    throw error;
  }
}
