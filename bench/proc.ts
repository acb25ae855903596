import { readdir, readFile } from "node:fs/promises";

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux Node runs on. */
const CLK_TCK = 100;

/** A process and its live descendants, from /proc/<pid>/task/<tid>/children. */
export async function processTree(pid: number): Promise<number[]> {
  const out = [pid];
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const tid of tids) {
    const text = await readFile(`/proc/${pid}/task/${tid}/children`, "utf8").catch(() => "");
    for (const child of text.trim().split(/\s+/).filter(Boolean)) {
      out.push(...(await processTree(Number(child))));
    }
  }
  return out;
}

/** VmRSS of one process, in KiB (0 when it is gone). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) : 0;
}

/**
 * CPU seconds of one process: utime + stime, plus cutime + cstime (children it has reaped);
 * live children are counted by walking the tree.
 */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Fields after the command name, which may hold spaces: field 3 is at index 0 here.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return ticks / CLK_TCK;
}

/** RSS (MiB) and CPU seconds of a process tree. */
export async function treeUsage(
  pid: number,
): Promise<{ rssMiB: number; cpuS: number; pids: number }> {
  const pids = await processTree(pid);
  const rss = await Promise.all(pids.map(rssKiB));
  const cpu = await Promise.all(pids.map(cpuSeconds));
  return {
    rssMiB: rss.reduce((a, b) => a + b, 0) / 1024,
    cpuS: cpu.reduce((a, b) => a + b, 0),
    pids: pids.length,
  };
}

/**
 * Pss of one process in KiB, from the text of /proc/<pid>/smaps_rollup: resident pages, each
 * shared page divided among the processes that map it, so a process tree's sum counts the
 * pages its forked workers share with their parent once, where VmRSS would count them in each.
 */
export function parsePssKiB(smapsRollup: string): number {
  const match = /^Pss:\s+(\d+)\s+kB/m.exec(smapsRollup);
  return match ? Number(match[1]) : 0;
}

export interface TreePss {
  pssMiB: number;
  pids: number;
  /** Each process's share, to tell which one grows: its pid, command line (cut) and Pss. */
  processes: { pid: number; command: string; pssMiB: number }[];
}

/** Pss (MiB) summed over a process tree. */
export async function treePss(pid: number): Promise<TreePss> {
  const pids = await processTree(pid);
  const processes = await Promise.all(
    pids.map(async (p) => {
      const rollup = await readFile(`/proc/${p}/smaps_rollup`, "utf8").catch(() => "");
      const cmdline = await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "");
      const command = cmdline.replaceAll("\0", " ").trim().slice(0, 120);
      return { pid: p, command, pssMiB: parsePssKiB(rollup) / 1024 };
    }),
  );
  const pssMiB = processes.reduce((sum, p) => sum + p.pssMiB, 0);
  return { pssMiB, pids: pids.length, processes };
}
