export { type AgentProcess, type AgentProcessOptions, spawnAgent } from "./agent-process.ts";
export {
  type LocalState,
  type LocalUpOptions,
  localDown,
  localLogPath,
  localStatus,
  localUp,
} from "./daemon.ts";
export { type HostedFunction, type LambdaHost, startLambdaHost } from "./lambda-host.ts";
export { type LocalDeployment, type LocalOptions, startLocal } from "./stack.ts";
export { type CfnTemplate, type LocalPlan, planFromTemplate } from "./template.ts";
