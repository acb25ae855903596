// What AWS requests cost: the price table, the run file of request tallies, the estimate.
export {
  type CostEstimate,
  type CostLine,
  estimateCost,
  estimateRun,
  mergeTallies,
} from "./estimate.ts";
export {
  COST_HEADERS,
  costRows,
  describePrices,
  formatDollars,
  formatQuantity,
} from "./format.ts";
export { DEFAULT_PRICES_PATH, loadPriceTable, PriceTable } from "./prices.ts";
export {
  AgentRequests,
  addAgentTallies,
  NOT_COUNTED,
  RUN_REQUESTS_FILE,
  RunRequests,
  readAgentTally,
  readRunRequests,
  writeRunRequests,
} from "./run-requests.ts";
export {
  keepWriting,
  type PeriodicWrite,
  writeClientRequests,
  writeTallyFile,
} from "./tally-file.ts";
