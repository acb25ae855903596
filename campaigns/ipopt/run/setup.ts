// A run's first stage: its directory and records, the search space, the training set, the surrogate.
import { readOracle, readSmilesFile } from "../data/index.ts";
import { createMlBackend, type MlBackend, readMpnnModelFiles } from "../mpnn/index.ts";
import type { CampaignOptions } from "./options.ts";
import { environmentInfo, RunRecords } from "./records.ts";
import { SearchState } from "./state.ts";
import { type CampaignEndpoints, FUNCTION_NAMES } from "./types.ts";

/** What a prepared run starts from. */
export interface PreparedRun {
  records: RunRecords;
  state: SearchState;
  /** The surrogate's train/infer functions and their arguments (--ml-backend gp | mpnn). */
  ml: MlBackend;
}

/**
 * Creates the run directory (run_params.json, environment.json, empty result files), reads the
 * search space (its first search-space-limit molecules) and the training set, and builds the
 * ML backend.
 */
export async function prepareRun(
  options: CampaignOptions,
  endpoints: CampaignEndpoints,
  startedMs: number,
  say: (line: string) => void,
): Promise<PreparedRun> {
  const records = await RunRecords.create(options.out, options.name);
  const { storePolicies, ...params } = options;
  await records.writeJson("run_params.json", { ...params, storePolicies, endpoints });
  await records.writeJson("environment.json", await environmentInfo());

  const fullSpace = await readSmilesFile(options.searchSpace);
  const space = options.searchSpaceLimit ? fullSpace.slice(0, options.searchSpaceLimit) : fullSpace;
  const trainingSet = (await readOracle(options.trainingSet)).molecules.map((m) => ({
    smiles: m.smiles,
    ip: m.ip,
  }));
  const state = new SearchState({
    space,
    trainingSet,
    startedMs,
    searchSize: options.searchSize,
    thresholdEv: options.thresholdEv,
  });
  say(`search space ${space.length} molecules, training set ${trainingSet.length}`);
  const ml = await createMlBackend({
    // An unresolved auto (no endpoint record consulted, e.g. the SDK) is the CPU default.
    backend: options.mlBackend === "auto" ? "gp" : options.mlBackend,
    gpFunctions: FUNCTION_NAMES,
    numEpochs: options.numEpochs,
    learningRate: options.learningRate,
    seed: options.seed,
    modelCount: options.modelCount,
    subsample: options.memberSubsample,
    retrainFromScratch: options.retrainFromScratch,
    ...(options.mpnnModelFiles
      ? { mpnnModels: await readMpnnModelFiles(options.mpnnModelFiles) }
      : {}),
  });
  return { records, state, ml };
}
