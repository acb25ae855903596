export {
  DATA_DIR,
  ORACLE_PATH,
  readSmilesFile,
  readText,
  SEARCH_SPACE_PATH,
  TRAINING_SET_PATH,
  writeText,
} from "./files.ts";
export { type GenerateSpaceOptions, generateSpace } from "./generate-space.ts";
export { type OracleFile, type OracleRecord, type Provenance, readOracle } from "./oracle.ts";
export { createRandom, type Random, shuffled } from "./random.ts";
export {
  type Bond,
  type Element,
  isStrainAcceptable,
  type MoleculeGraph,
  type SamplerOptions,
  sampleMolecule,
  toMolblock,
} from "./random-molecule.ts";
export { sampleSpace } from "./sample-space.ts";
