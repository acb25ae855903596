import type { OracleRecord } from "./oracle.ts";
import { createRandom, shuffled } from "./random.ts";

/** Which part of the check a molecule belongs to (its priority). */
export type BondCheckGroup = "training" | "oracle-tail" | "oracle-sample";

export interface BondCheckRow {
  file: "training" | "oracle";
  group: BondCheckGroup;
  /** Position in the check's order. */
  rank: number;
  smiles: string;
  /** The IP the shipped file holds, eV. */
  shippedIp: number;
}

/** Share of each end of the oracle's IP range that is checked first. */
export const TAIL_PERCENT = 2;

/**
 * The order the shipped molecules are re-checked in: the whole training set; the oracle values
 * below its 2nd or above its 98th percentile (where a broken molecule shows); then the rest of
 * the oracle in a seeded shuffle, so any prefix of it is a random sample.
 */
export function bondCheckOrder(
  training: readonly OracleRecord[],
  oracle: readonly OracleRecord[],
  seed: number,
): BondCheckRow[] {
  const { low, high } = tailBounds(oracle.map((m) => m.ip));
  const inTail = (ip: number) => ip < low || ip > high;
  const tail = oracle.filter((m) => inTail(m.ip));
  const rest = shuffled(
    oracle.filter((m) => !inTail(m.ip)),
    createRandom(seed),
  );
  const rows = [
    ...training.map((m) => ({ file: "training" as const, group: "training" as const, m })),
    ...tail.map((m) => ({ file: "oracle" as const, group: "oracle-tail" as const, m })),
    ...rest.map((m) => ({ file: "oracle" as const, group: "oracle-sample" as const, m })),
  ];
  return rows.map(({ file, group, m }, rank) => ({
    file,
    group,
    rank,
    smiles: m.smiles,
    shippedIp: m.ip,
  }));
}

/** The 2nd and 98th percentiles (nearest rank) of the values. */
export function tailBounds(values: readonly number[]): { low: number; high: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (percent: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((percent / 100) * sorted.length))] ?? Number.NaN;
  return { low: at(TAIL_PERCENT), high: at(100 - TAIL_PERCENT) };
}
