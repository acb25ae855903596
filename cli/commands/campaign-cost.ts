// `ferry campaign cost <runDir>`: a run's AWS requests (aws-requests.json) priced line by line.
import type { Command } from "commander";
import {
  COST_HEADERS,
  costRows,
  DEFAULT_PRICES_PATH,
  describePrices,
  estimateRun,
  formatDollars,
  loadPriceTable,
  readRunRequests,
} from "#core/cost/index.ts";
import { emit, table } from "../output.ts";

interface CostFlags {
  prices?: string;
  json?: boolean;
}

export function declareCampaignCost(campaign: Command): void {
  campaign
    .command("cost <runDir>")
    .description(
      "price a run's AWS requests (SQS, S3, Lambda, data transfer) in dollars from its aws-requests.json",
    )
    .option("--prices <file>", "price table (JSON, the shape of core/cost/prices-us-east-1.json)")
    .option("--json", "print the estimate as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  ferry campaign cost runs/demo-2026-01-05T10-15-00Z --prices my-prices.json",
    )
    .action((runDir: string, flags: CostFlags) => printCampaignCost(runDir, flags));
}

async function printCampaignCost(runDir: string, flags: CostFlags): Promise<void> {
  const run = await readRunRequests(runDir);
  const pricesPath = flags.prices ?? DEFAULT_PRICES_PATH;
  const prices = await loadPriceTable(pricesPath);
  const estimate = estimateRun(run, prices);
  const value = {
    ...estimate,
    prices: { path: pricesPath, region: prices.region, checked: prices.checked },
    agents: run.agents.map((a) => a.name),
    notCounted: run.notCounted,
  };
  emit(Boolean(flags.json), value, () =>
    [
      table(COST_HEADERS, costRows(estimate.lines)),
      `total ${formatDollars(estimate.totalDollars)} for the client` +
        (run.agents.length > 0 ? ` and agents ${run.agents.map((a) => a.name).join(", ")}` : ""),
      describePrices(prices, pricesPath),
      `not counted: ${run.notCounted.join("; ")}`,
    ].join("\n"),
  );
}
