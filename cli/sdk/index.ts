export { Executor, type ExecutorDeps, type SubmitOptions } from "./executor.ts";
export { waitForEndpointsOnline } from "./wait.ts";
