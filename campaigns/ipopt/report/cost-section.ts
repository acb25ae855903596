// The report's "What it cost on AWS" section: the run's aws-requests.json priced with the
// shipped us-east-1 table (or the one given).
import { access } from "node:fs/promises";
import { join } from "node:path";
import {
  costRows,
  DEFAULT_PRICES_PATH,
  describePrices,
  estimateRun,
  formatDollars,
  loadPriceTable,
  RUN_REQUESTS_FILE,
  readRunRequests,
} from "#core/cost/index.ts";
import { escapeHtml, htmlTable, type Section } from "./html.ts";

/** The shipped table, named by its place in the package rather than this machine's path. */
const SHIPPED = "core/cost/prices-us-east-1.json";

/** The cost section, or none for a run that recorded no request counts (older runs). */
export async function costSections(
  runDir: string,
  pricesPath: string = DEFAULT_PRICES_PATH,
): Promise<Section[]> {
  const recorded = await access(join(runDir, RUN_REQUESTS_FILE)).then(
    () => true,
    () => false,
  );
  if (!recorded) return [];
  const run = await readRunRequests(runDir);
  const prices = await loadPriceTable(pricesPath);
  const estimate = estimateRun(run, prices);
  const who = ["the steering client", ...run.agents.map((a) => `agent "${a.name}"`)].join(", ");
  const paragraph = (text: string) => `<p>${escapeHtml(text)}</p>`;
  return [
    {
      title: "What it cost on AWS",
      charts: [],
      html:
        paragraph(
          `${formatDollars(estimate.totalDollars)} at list prices for the requests of ${who}, ` +
            "counted at their SDK clients (every attempt, retries included) and priced line by line; " +
            "recount with another price table by `ferry campaign cost <runDir> --prices <file>`.",
        ) +
        htmlTable(
          "aws-cost",
          ["service", "kind", "quantity", "unit", "USD"],
          costRows(estimate.lines),
          [0, 1, 3],
        ) +
        paragraph(
          describePrices(prices, pricesPath === DEFAULT_PRICES_PATH ? SHIPPED : pricesPath),
        ) +
        paragraph(`${prices.note ?? ""}`) +
        paragraph(`Not counted: ${run.notCounted.join("; ")}.`),
    },
  ];
}
