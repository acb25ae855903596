import type { RDKit } from "../chem/rdkit.ts";
import { batchOf, type GraphBatch, type MolGraph, moleculeGraph } from "./graph.ts";

interface PackedGraph {
  atoms: Uint8Array;
  bonds: Uint16Array;
}

/**
 * Graphs the campaign sends again and again, built once: training molecules by SMILES, search
 * space chunks by index (every model update re-scores every chunk). Kept as typed arrays, about
 * 100 bytes a molecule rather than about 1 KB as number arrays; expanded per task.
 */
export class GraphCache {
  readonly #rdkit: RDKit;
  readonly #molecules = new Map<string, PackedGraph>();
  readonly #chunks = new Map<number, PackedGraph[]>();

  constructor(rdkit: RDKit) {
    this.#rdkit = rdkit;
  }

  /** Graphs of these molecules, each built on first use. */
  molecules(smiles: readonly string[]): GraphBatch {
    return batchOf(
      smiles.map((s) => {
        let packed = this.#molecules.get(s);
        if (!packed) {
          packed = pack(moleculeGraph(this.#rdkit, s));
          this.#molecules.set(s, packed);
        }
        return unpack(packed);
      }),
    );
  }

  /** Graphs of chunk `index`; `smiles` is read only the first time. */
  chunk(index: number, smiles: () => readonly string[]): GraphBatch {
    let packed = this.#chunks.get(index);
    if (!packed) {
      packed = smiles().map((s) => pack(moleculeGraph(this.#rdkit, s)));
      this.#chunks.set(index, packed);
    }
    return batchOf(packed.map(unpack));
  }
}

function pack(graph: MolGraph): PackedGraph {
  // Codes are below 16 and atom indices below 65,536 in any molecule this campaign sees.
  return { atoms: Uint8Array.from(graph.atoms), bonds: Uint16Array.from(graph.bonds) };
}

function unpack(packed: PackedGraph): MolGraph {
  return { atoms: Array.from(packed.atoms), bonds: Array.from(packed.bonds) };
}
