export { canonicalSmiles } from "./canonical.ts";
export { loadRDKit, type RDKit } from "./rdkit.ts";
