// How the CLI, the report and the benchmark write dollars and quantities.
import type { CostLine } from "./estimate.ts";
import type { PriceTable } from "./prices.ts";

/** Dollars to the cent from $1, else three significant digits (a run often costs fractions of a cent). */
export function formatDollars(dollars: number): string {
  if (dollars === 0) return "$0";
  if (dollars >= 1) return `$${dollars.toFixed(2)}`;
  return `$${significant(dollars, 3)}`;
}

/** Whole numbers as they are, fractions (GB, GB-months) to four significant digits. */
export function formatQuantity(quantity: number): string {
  if (Number.isInteger(quantity)) return String(quantity);
  return quantity >= 1000 ? quantity.toFixed(0) : significant(quantity, 4);
}

/** `digits` significant digits, never in exponent notation (0.0000000463, not 4.63e-8). */
function significant(x: number, digits: number): string {
  const decimals = Math.min(20, Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x)))));
  return x.toFixed(decimals);
}

/** One row per line: service, kind, quantity, unit, dollars. */
export function costRows(lines: readonly CostLine[]): string[][] {
  return lines.map((l) => [
    l.service,
    l.kind,
    formatQuantity(l.quantity),
    l.unit,
    formatDollars(l.dollars),
  ]);
}

export const COST_HEADERS = ["SERVICE", "KIND", "QUANTITY", "UNIT", "USD"];

/** The table's provenance in one line: region, date checked, and the pricing pages. */
export function describePrices(prices: PriceTable, path: string): string {
  const pages = [prices.sqs.source, prices.s3.source, prices.lambda.source, prices.transfer.source];
  return (
    `prices: ${prices.region} list prices in ${prices.currency}, checked ${prices.checked} ` +
    `(${path}; sources ${pages.join(", ")}); data transfer out at $${prices.transfer.outPerGb}/GB`
  );
}
