import { setTimeout as sleep } from "node:timers/promises";
import { type TreePss, treePss } from "../proc.ts";
import { median, round, summarize } from "../stats.ts";
import type { Peer, PeerName } from "./peer.ts";
import type { PeerStats } from "./rows.ts";

export interface Sizes {
  /** Sequential round trips a repetition. */
  rounds: number;
  /** Round trips, then a batch of `warmBatch`, before anything counts. */
  warmup: number;
  warmBatch: number;
  /** No-ops of a throughput batch. */
  tasks: number;
  repetitions: number;
  /** Idle time before memory is read: start-up and the last task's garbage settle. */
  settleMs: number;
}

const NO_PSS: TreePss = { pssMiB: Number.NaN, pids: 0, processes: [] };

export interface PeerResult {
  stats: PeerStats;
  /** Each repetition's own median and p99 (ms) and tasks/s. */
  repetitions: { medianMs: number; p99Ms: number; tasksPerS: number }[];
  /** Worker side, idle after the warm-up and again after every repetition. */
  idle: TreePss;
  idleAfterRuns: TreePss;
}

/**
 * Every peer through the same steps on the same machine: warm-up, idle memory, then
 * `repetitions` rounds of sequential round trips and of one batch each. Each step goes
 * through the peers in turn, their order rotating by repetition, so that load which comes and
 * goes on a shared machine falls on all of them alike.
 */
export async function measurePeers(
  peers: readonly Peer[],
  sizes: Sizes,
  log: (line: string) => void,
): Promise<Record<string, PeerResult>> {
  for (const peer of peers) {
    await peer.roundtrip(sizes.warmup);
    await peer.batch(sizes.warmBatch);
  }
  await sleep(sizes.settleMs);
  const idle = await Promise.all(peers.map(workerSidePss));
  const reps = new Map<PeerName, PeerResult["repetitions"]>(peers.map((p) => [p.name, []]));
  for (let r = 0; r < sizes.repetitions; r++) {
    const order = peers.map((_, i) => peers[(i + r) % peers.length] as Peer);
    const times = new Map<PeerName, number[]>();
    for (const peer of order) times.set(peer.name, await peer.roundtrip(sizes.rounds));
    for (const peer of order) {
      const seconds = await peer.batch(sizes.tasks);
      const { median: medianMs, p99: p99Ms } = summarize(times.get(peer.name) ?? []);
      const rep = { medianMs, p99Ms, tasksPerS: sizes.tasks / seconds };
      reps.get(peer.name)?.push(rep);
      log(`  ${r + 1}/${sizes.repetitions} ${peer.name}: ${describe(rep)}`);
    }
  }
  await sleep(sizes.settleMs);
  const after = await Promise.all(peers.map(workerSidePss));
  const out: Record<string, PeerResult> = {};
  peers.forEach((peer, i) => {
    const repetitions = reps.get(peer.name) ?? [];
    const idleNow = idle[i] ?? NO_PSS;
    const idleAfterRuns = after[i] ?? NO_PSS;
    out[peer.name] = {
      stats: {
        roundtripMedianMs: median(repetitions.map((x) => x.medianMs)),
        roundtripP99Ms: median(repetitions.map((x) => x.p99Ms)),
        tasksPerS: median(repetitions.map((x) => x.tasksPerS)),
        idlePssMiB: idleNow.pssMiB,
        idleAfterRunsPssMiB: idleAfterRuns.pssMiB,
      },
      repetitions,
      idle: idleNow,
      idleAfterRuns,
    };
  });
  return out;
}

async function workerSidePss(peer: Peer): Promise<TreePss> {
  const trees = await Promise.all(peer.workerSidePids.map(treePss));
  const processes = trees.flatMap((t) => t.processes);
  return {
    pssMiB: round(
      processes.reduce((sum, p) => sum + p.pssMiB, 0),
      1,
    ),
    pids: processes.length,
    processes: processes.map((p) => ({ ...p, pssMiB: round(p.pssMiB, 1) })),
  };
}

const describe = (rep: { medianMs: number; p99Ms: number; tasksPerS: number }) =>
  `round trip median ${rep.medianMs.toFixed(2)} ms, p99 ${rep.p99Ms.toFixed(2)} ms; ` +
  `${rep.tasksPerS.toFixed(0)} tasks/s`;
