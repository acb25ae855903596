// The public surface of the endpoint agent; everything else is internal.
export { type AgentState, EndpointAgent, type EndpointAgentOptions } from "./agent.ts";
export {
  loadSiteConfig,
  type SiteConfig,
  type SiteConfigInput,
  SiteConfigSchema,
} from "./config.ts";
export type { AgentDeps } from "./deps.ts";
export { type RunAgentProcessOptions, runAgentProcess, serveUntilSignalled } from "./process.ts";
