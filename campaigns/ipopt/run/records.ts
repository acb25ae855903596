import { execFile } from "node:child_process";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { hostname, platform, release } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ResultMessage } from "#core/protocol/index.ts";

const run = promisify(execFile);

/** The files of one run, `<out>/<name>-<date>/`, appended to as the campaign goes. */
export class RunRecords {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(out: string, name: string, now = new Date()): Promise<RunRecords> {
    const stamp = now
      .toISOString()
      .replace(/[:]/g, "-")
      .replace(/\.\d+Z$/, "Z");
    const dir = join(out, `${name}-${stamp}`);
    await mkdir(dir, { recursive: true });
    const records = new RunRecords(dir);
    for (const file of RUN_FILES) await writeFile(join(dir, file), "");
    await writeFile(join(dir, "molecules.csv"), "index,smiles,ip_ev\n");
    return records;
  }

  writeJson(file: string, value: unknown): Promise<void> {
    return writeFile(join(this.dir, file), `${JSON.stringify(value, null, 2)}\n`);
  }

  appendLine(file: string, value: unknown): Promise<void> {
    return appendFile(join(this.dir, file), `${JSON.stringify(value)}\n`);
  }

  appendMolecule(index: number, smiles: string, ipEv: number): Promise<void> {
    // SMILES never hold commas or quotes; no CSV escaping needed.
    return appendFile(join(this.dir, "molecules.csv"), `${index},${smiles},${ipEv.toFixed(4)}\n`);
  }

  /** One task's line: outcome, every timing, sizes and worker (the seed's *-results.json). */
  appendTask(result: ResultMessage, extra: Record<string, unknown> = {}): Promise<void> {
    const valueBytes = result.ok
      ? "ref" in result.value
        ? result.value.ref.size
        : JSON.stringify(result.value.inline).length
      : 0;
    return this.appendLine(`${fileOfTopic(result.topic)}`, {
      taskId: result.taskId,
      topic: result.topic,
      ok: result.ok,
      error: result.ok ? null : result.error,
      attempt: result.attempt,
      timings: result.timings,
      durationsMs: durationsOf(result),
      sizes: {
        valueBytes,
        valueByReference: result.ok && "ref" in result.value,
      },
      worker: result.worker,
      ...extra,
    });
  }
}

/** training-set.json: what the run started from, the report's baseline for the best IP. */
export function trainingSetSummary(rows: readonly { smiles: string; ip: number }[]): {
  molecules: number;
  bestIpEv: number | null;
  bestSmiles: string | null;
} {
  const best = rows.reduce<{ smiles: string; ip: number } | undefined>(
    (b, row) => (b === undefined || row.ip > b.ip ? row : b),
    undefined,
  );
  return { molecules: rows.length, bestIpEv: best?.ip ?? null, bestSmiles: best?.smiles ?? null };
}

export const RUN_FILES = [
  "simulation-results.jsonl",
  "training-results.jsonl",
  "inference-results.jsonl",
  "progress.jsonl",
] as const;

function fileOfTopic(topic: string): string {
  if (topic === "simulate") return "simulation-results.jsonl";
  if (topic === "train") return "training-results.jsonl";
  return "inference-results.jsonl";
}

function durationsOf(result: ResultMessage): Record<string, number | undefined> {
  const t = result.timings;
  const span = (a?: number, b?: number) => (a !== undefined && b !== undefined ? b - a : undefined);
  return {
    queuedMs: span(t.sent, t.received),
    inputsMs: span(t.received, t.inputsResolved),
    runningMs: span(t.started, t.ended),
    roundTripMs: span(t.created, t.resultReceived),
  };
}

/** Versions of what the run depends on (node, xtb, obabel) and where it ran. */
export async function environmentInfo(): Promise<Record<string, unknown>> {
  const version = async (cmd: string, args: string[], pattern: RegExp) => {
    try {
      const { stdout, stderr } = await run(cmd, args, { timeout: 10_000 });
      return (`${stdout}\n${stderr}`.match(pattern)?.[1] ?? "unknown").trim();
    } catch {
      return "not found";
    }
  };
  return {
    node: process.version,
    xtb: await version("xtb", ["--version"], /xtb version ([\d.]+)/),
    obabel: await version("obabel", ["-V"], /Open Babel ([\d.]+)/),
    host: hostname(),
    platform: `${platform()} ${release()}`,
    note: "client host; simulate, train and infer ran on the endpoints named in run_params.json",
  };
}
