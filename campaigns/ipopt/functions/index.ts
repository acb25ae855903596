// The campaign's Ferry functions, each a module whose default export is the task.
export { default as infer, type InferArgs, type InferResult } from "./infer.ts";
export { default as simulate, type SimulateArgs, type SimulateResult } from "./simulate.ts";
export { default as train, type TrainArgs } from "./train.ts";
