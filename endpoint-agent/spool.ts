import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ResultMessage } from "#core/protocol/index.ts";

/** A result that could not be sent yet, with what is needed to finish the delivery later. */
export const SpoolEntry = z.object({
  result: ResultMessage,
  replyTo: z.string(),
  taskQueueUrl: z.string(),
  receiptHandle: z.string(),
  spooledAt: z.number(),
  /**
   * When sends of this result started to be refused or to find no queue (not when they merely
   * failed to connect): after the consistency window it is parked with the control plane.
   */
  refusedSince: z.number().optional(),
  /** The last send error, for the logs and the parked record. */
  lastError: z.string().optional(),
});
export type SpoolEntry = z.infer<typeof SpoolEntry>;

/** Results on local disk, one fsynced file each, so an outage or a restart loses none. */
export class ResultSpool {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async put(entry: SpoolEntry): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const path = this.#pathOf(entry);
    const tmp = `${path}.tmp`;
    const file = await open(tmp, "w");
    try {
      await file.writeFile(JSON.stringify(entry));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  }

  /** Every readable entry; an unreadable file is set aside (renamed .bad), not retried forever. */
  async list(): Promise<SpoolEntry[]> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    const entries: SpoolEntry[] = [];
    for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
      const path = join(this.#dir, name);
      try {
        entries.push(SpoolEntry.parse(JSON.parse(await readFile(path, "utf8"))));
      } catch {
        await rename(path, `${path}.bad`).catch(() => {});
      }
    }
    return entries;
  }

  async remove(entry: SpoolEntry): Promise<void> {
    await unlink(this.#pathOf(entry)).catch(() => {});
  }

  #pathOf(entry: SpoolEntry): string {
    return join(this.#dir, `${entry.result.taskId}-${entry.result.attempt}.json`);
  }
}
