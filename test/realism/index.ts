// The AWS-realism layer of the test harness: proxies that make an emulator answer like AWS.
export type { ErrorReply } from "./errors.ts";
export type { FaultKind, RealismFaults, RealismService } from "./faults.ts";
export { type RealismPreset, realismPresets } from "./presets.ts";
export { type Injection, RealismProxy, type RealismProxyOptions } from "./proxy.ts";
export { type RealismDeployment, type RealismEndpoints, startRealismFor } from "./start.ts";
export type { RealismStats } from "./stats.ts";
