import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";

/** One line of the table: Ferry against its baseline, and whether the ratio meets its target. */
export interface Row {
  benchmark: string;
  what: string;
  unit: string;
  ferry: number;
  baseline: number;
  baselineName: string;
  /** ferry / baseline (for throughput-like rows, where higher is better, also ferry / baseline). */
  ratio: number;
  /** e.g. "<= 1.5x"; "-" when the issue sets none (the row is reported only). */
  target: string;
  met: boolean | undefined;
  note?: string;
}

/** A ratio row: `better` says whether lower (time) or higher (throughput) is good. */
export function ratioRow(
  r: Omit<Row, "ratio" | "met" | "target"> & { limit?: number; better: "lower" | "higher" },
): Row {
  const ratio = r.ferry / r.baseline;
  const { limit, better, ...rest } = r;
  if (limit === undefined) return { ...rest, ratio, target: "-", met: undefined };
  const met = better === "lower" ? ratio <= limit : ratio >= limit;
  return { ...rest, ratio, target: `${better === "lower" ? "<=" : ">="} ${limit}x`, met };
}

const fmt = (x: number) =>
  !Number.isFinite(x) ? "n/a" : Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3);

/** The table as printed: what, Ferry, baseline, ratio, target, met. */
export function formatTable(rows: readonly Row[]): string {
  const header = ["#", "what", "Ferry", "baseline", "ratio", "target", "met?"];
  const lines = rows.map((r) => [
    r.benchmark,
    r.what,
    `${fmt(r.ferry)} ${r.unit}`,
    `${fmt(r.baseline)} ${r.unit} (${r.baselineName})`,
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : "n/a",
    r.target,
    r.met === undefined ? "-" : r.met ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  const notes = rows.filter((r) => r.note).map((r) => `  [${r.benchmark} ${r.what}] ${r.note}`);
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...lines.map(line), ...notes].join(
    "\n",
  );
}

/** What a finished run records besides its own details: where and how it ran. */
export interface RunRecord {
  command: string;
  quick: boolean;
  wallS: number;
  loadAverage: { start: number[]; end: number[] };
  rows: readonly Row[];
  details: Record<string, unknown>;
  errors?: readonly string[];
}

/** A finished run's results file, with the date, Node version and core count; its path. */
export function writeRunResults(dir: string, run: RunRecord, prefix = ""): Promise<string> {
  const { command, quick, wallS, ...rest } = run;
  const machine = { node: process.version, cores: cpus().length };
  const data = { command, date: new Date().toISOString(), quick, wallS, ...machine, ...rest };
  return writeResults(dir, data, prefix);
}

/** bench/results/<prefix><ISO date>.json; returns its path. */
export async function writeResults(dir: string, data: unknown, prefix = ""): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${prefix}${new Date().toISOString().replaceAll(":", "-")}.json`);
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}
