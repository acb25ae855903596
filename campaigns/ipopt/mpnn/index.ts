// The MPNN backend: graphs built here, a PyTorch network run as Ferry shell functions.
export {
  chooseMlBackend,
  createMlBackend,
  ML_BACKENDS,
  type MlBackend,
  type MlBackendChoice,
  type MlBackendName,
  type MlBackendOptions,
  MPNN_FUNCTION_NAMES,
} from "./backend.ts";
export { GraphCache } from "./cache.ts";
export {
  ATOM_FIELDS,
  BOND_TYPES,
  batchOf,
  ELEMENTS,
  GRAPH_FORMAT,
  type GraphBatch,
  graphBatch,
  type MolGraph,
  moleculeGraph,
} from "./graph.ts";
export { readMpnnModelFiles } from "./model-files.ts";
export { runMpnnLocally } from "./run-local.ts";
export { MPNN_SCRIPT_PATH, type MpnnEntry, mpnnArgv, mpnnSource } from "./source.ts";
export type {
  MpnnInferArgs,
  MpnnInferResult,
  MpnnModelJson,
  MpnnOptions,
  MpnnTrainArgs,
} from "./types.ts";
