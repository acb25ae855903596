export { Executor, type ExecutorDeps, type SubmitOptions } from "./executor.ts";
