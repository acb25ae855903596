import type { RDKit } from "./rdkit.ts";

/** Canonical SMILES, or undefined when RDKit cannot parse or sanitize the input. */
export function canonicalSmiles(rdkit: RDKit, input: string): string | undefined {
  const mol = rdkit.get_mol(input);
  if (mol === null) return undefined;
  try {
    return mol.is_valid() ? mol.get_smiles() : undefined;
  } finally {
    mol.delete();
  }
}
