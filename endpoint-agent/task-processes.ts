import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { Logger } from "#core/logger.ts";

/**
 * A record of each shell task's process group while it runs, so that an agent restarted after
 * a kill -9 can stop the groups its dead predecessor left running (a node worker leaves by
 * itself when its parent's IPC channel closes; a shell program has no such channel). Without
 * this an orphaned simulation keeps a core busy for its whole walltime beside the task's
 * second attempt.
 *
 * Records name the agent pid that started the group and the group leader's start time, so a
 * live agent's groups, and a pid the system has reused since, are never touched. Linux only:
 * start times come from /proc; elsewhere nothing is recorded.
 */
const ProcessRecord = z.object({
  agentPid: z.number().int(),
  pgid: z.number().int().positive(),
  /** The group leader's start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTicks: z.string().min(1),
  taskId: z.string(),
});
type ProcessRecord = z.infer<typeof ProcessRecord>;

export class TaskProcesses {
  readonly #dir: string;

  /** @param dir one per endpoint on this host (several agents may share it) */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Note a running task's process group; best effort (never fails the task). Synchronous, a
   * tiny local write: the record must exist before the task can outlive this agent.
   */
  record(pgid: number, taskId: string): void {
    const startTicks = startTicksOf(pgid);
    if (startTicks === undefined) return;
    const record: ProcessRecord = { agentPid: process.pid, pgid, startTicks, taskId };
    try {
      mkdirSync(this.#dir, { recursive: true });
      writeFileSync(this.#file(process.pid, pgid), JSON.stringify(record));
    } catch {
      // Not recorded: only the clean-up after a crash is lost.
    }
  }

  /** The group has ended (or was stopped): forget it. */
  forget(pgid: number): void {
    rmSync(this.#file(process.pid, pgid), { force: true });
  }

  /**
   * SIGKILL the process groups of agents that are gone, and forget them. Returns how many
   * groups were stopped.
   */
  async reapOrphans(logger: Logger): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch {
      return 0;
    }
    let reaped = 0;
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const path = join(this.#dir, name);
      const parsed = ProcessRecord.safeParse(
        await readFile(path, "utf8")
          .then((text) => JSON.parse(text) as unknown)
          .catch(() => undefined),
      );
      if (!parsed.success) {
        await rm(path, { force: true });
        continue;
      }
      const r = parsed.data;
      if (r.agentPid !== process.pid && isAlive(r.agentPid)) continue;
      // Only the very process that was recorded: its pid may have been reused since.
      if (startTicksOf(r.pgid) === r.startTicks) {
        try {
          process.kill(-r.pgid, "SIGKILL");
          reaped++;
          logger.warn(
            { taskId: r.taskId, pgid: r.pgid, deadAgentPid: r.agentPid },
            "stopped a task's processes left running by an agent that died",
          );
        } catch {
          // Gone meanwhile.
        }
      }
      await rm(path, { force: true });
    }
    return reaped;
  }

  #file(agentPid: number, pgid: number): string {
    return join(this.#dir, `${agentPid}-${pgid}.json`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Field 22 of /proc/<pid>/stat, after the parenthesised command name (which may hold spaces). */
function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state), so field 22 is fields[19].
    return fields[19];
  } catch {
    return undefined;
  }
}
