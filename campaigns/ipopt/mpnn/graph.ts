import { z } from "zod";
import { TaskFailedError } from "#core/errors.ts";
import type { RDKit } from "../chem/rdkit.ts";

/**
 * Molecular graphs for the MPNN, built here so the GPU host needs only Python and PyTorch.
 *
 * Read from RDKit MinimalLib's JSON (`mol.get_json()`, commonchem) rather than a molblock: the
 * JSON names aromatic atoms and bonds, charges and hydrogen counts explicitly and parses with
 * JSON.parse and zod, where a V2000 molblock is Kekulé-only and needs a fixed-column parser.
 *
 * Features travel as small integer codes, one per field, not as one-hot vectors: a chunk of
 * 10,000 molecules is about four times smaller, and the network's per-field embeddings are
 * exactly a linear layer over the one-hot encoding (mpnn.py). The field sizes travel with the
 * graphs, so the two sides cannot disagree silently.
 */
export const GRAPH_FORMAT = "ferry-mpnn-graphs/1";

/** Elements with their own code (atomic numbers); any other element is code ELEMENTS.length. */
export const ELEMENTS = [1, 6, 7, 8, 9, 14, 15, 16, 17, 35, 53] as const;

/** The atom fields in code order, with how many values each takes. */
export const ATOM_FIELDS = [
  { name: "element", size: ELEMENTS.length + 1 },
  /** Formal charge clamped to -2..2, stored as charge + 2. */
  { name: "charge", size: 5 },
  { name: "aromatic", size: 2 },
  /** Hydrogens on the atom, 4 and more share a code. */
  { name: "hydrogens", size: 5 },
  /** Heavy-atom neighbours, 5 and more share a code. */
  { name: "degree", size: 6 },
  /** 0 sp3 (or none), 1 sp2, 2 sp: estimated from bond orders (the JSON carries no hybridisation). */
  { name: "hybridization", size: 3 },
  { name: "inRing", size: 2 },
] as const;

/** Bond type codes. RDKit's dative and other orders count as single. */
export const BOND_TYPES = ["single", "double", "triple", "aromatic"] as const;

/** One molecule: `atoms` holds ATOM_FIELDS.length codes per atom, `bonds` [i, j, type] per bond. */
export interface MolGraph {
  atoms: number[];
  bonds: number[];
}

/** Graphs of many molecules with the feature layout they were built with. */
export interface GraphBatch {
  format: typeof GRAPH_FORMAT;
  atomFields: { name: string; size: number }[];
  bondTypes: string[];
  graphs: MolGraph[];
}

// The parts of RDKit's JSON used here; absent keys take the file's "defaults".
const RdkitAtom = z.object({
  z: z.number().int().optional(),
  chg: z.number().int().optional(),
  impHs: z.number().int().optional(),
});
const RdkitBond = z.object({
  atoms: z.tuple([z.number().int(), z.number().int()]),
  bo: z.number().int().optional(),
});
const RdkitJson = z.object({
  defaults: z.object({
    atom: z.object({ z: z.number().int(), chg: z.number().int(), impHs: z.number().int() }),
    bond: z.object({ bo: z.number().int() }),
  }),
  molecules: z
    .array(
      z.object({
        atoms: z.array(RdkitAtom),
        bonds: z.array(RdkitBond).default([]),
        extensions: z
          .array(
            z.looseObject({
              name: z.string(),
              aromaticAtoms: z.array(z.number().int()).optional(),
              aromaticBonds: z.array(z.number().int()).optional(),
              atomRings: z.array(z.array(z.number().int())).optional(),
            }),
          )
          .default([]),
      }),
    )
    .length(1),
});

/** The graph of one molecule; a SMILES RDKit cannot read is a TaskFailedError naming it. */
export function moleculeGraph(rdkit: RDKit, smiles: string): MolGraph {
  const json = rdkitJson(rdkit, smiles);
  const parsed = RdkitJson.safeParse(JSON.parse(json));
  const molecule = parsed.success ? parsed.data.molecules[0] : undefined;
  if (!parsed.success || !molecule) {
    throw new TaskFailedError(`unexpected RDKit JSON for SMILES "${smiles}"`);
  }
  const defaults = parsed.data.defaults;
  const rdkitExt = molecule.extensions.find((e) => e.name === "rdkitRepresentation");
  const aromaticAtoms = new Set(rdkitExt?.aromaticAtoms ?? []);
  const aromaticBonds = new Set(rdkitExt?.aromaticBonds ?? []);
  const ringAtoms = new Set((rdkitExt?.atomRings ?? []).flat());

  const n = molecule.atoms.length;
  const degree = new Array<number>(n).fill(0);
  const doubles = new Array<number>(n).fill(0);
  const triples = new Array<number>(n).fill(0);
  const bonds: number[] = [];
  for (const [index, bond] of molecule.bonds.entries()) {
    const [i, j] = bond.atoms;
    const order = bond.bo ?? defaults.bond.bo;
    const type = aromaticBonds.has(index) ? 3 : order === 2 ? 1 : order === 3 ? 2 : 0;
    bonds.push(i, j, type);
    for (const atom of [i, j]) {
      degree[atom] = (degree[atom] ?? 0) + 1;
      if (type === 1) doubles[atom] = (doubles[atom] ?? 0) + 1;
      if (type === 2) triples[atom] = (triples[atom] ?? 0) + 1;
    }
  }

  const atoms: number[] = [];
  for (const [index, atom] of molecule.atoms.entries()) {
    const element = ELEMENTS.indexOf((atom.z ?? defaults.atom.z) as (typeof ELEMENTS)[number]);
    const charge = Math.max(-2, Math.min(2, atom.chg ?? defaults.atom.chg));
    const aromatic = aromaticAtoms.has(index);
    const hydrogens = Math.min(4, atom.impHs ?? defaults.atom.impHs);
    const sp = (triples[index] ?? 0) > 0 || (doubles[index] ?? 0) > 1;
    const hybridization = sp ? 2 : aromatic || (doubles[index] ?? 0) > 0 ? 1 : 0;
    atoms.push(
      element < 0 ? ELEMENTS.length : element,
      charge + 2,
      aromatic ? 1 : 0,
      hydrogens,
      Math.min(5, degree[index] ?? 0),
      hybridization,
      ringAtoms.has(index) ? 1 : 0,
    );
  }
  return { atoms, bonds };
}

/** Graphs of many molecules, in order, with the feature layout. */
export function graphBatch(rdkit: RDKit, smiles: readonly string[]): GraphBatch {
  return batchOf(smiles.map((s) => moleculeGraph(rdkit, s)));
}

/** Wraps graphs already built (e.g. cached) with the feature layout. */
export function batchOf(graphs: MolGraph[]): GraphBatch {
  return {
    format: GRAPH_FORMAT,
    atomFields: ATOM_FIELDS.map(({ name, size }) => ({ name, size })),
    bondTypes: [...BOND_TYPES],
    graphs,
  };
}

function rdkitJson(rdkit: RDKit, smiles: string): string {
  let mol: ReturnType<RDKit["get_mol"]> = null;
  try {
    // RDKit's wasm throws (rather than returning null) on an empty string.
    mol = smiles.trim() === "" ? null : rdkit.get_mol(smiles);
  } catch {
    mol = null;
  }
  if (mol === null || !mol.is_valid()) {
    mol?.delete();
    throw new TaskFailedError(`RDKit cannot read SMILES "${smiles}"`);
  }
  try {
    return mol.get_json();
  } finally {
    mol.delete();
  }
}
