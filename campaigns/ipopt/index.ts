// The IP-optimization campaign's public surface, for the CLI.
export { writeReport } from "./report/index.ts";
export { type CampaignSummary, runIpCampaign } from "./run/campaign.ts";
export { resolveMlBackend } from "./run/ml-backend.ts";
export { type CampaignOptionsInput, resolveCampaignOptions } from "./run/options.ts";
export { registerCampaignFunctions } from "./run/register.ts";
