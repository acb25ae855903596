import { describe, expect, it } from "vitest";
import { TaskFailedError } from "#core/errors.ts";
import { loadRDKit } from "../../campaigns/ipopt/chem/rdkit.ts";
import {
  ATOM_FIELDS,
  BOND_TYPES,
  createMlBackend,
  ELEMENTS,
  GRAPH_FORMAT,
  GraphCache,
  graphBatch,
  type MolGraph,
  moleculeGraph,
  mpnnArgv,
  mpnnSource,
} from "../../campaigns/ipopt/mpnn/index.ts";
import { resolveCampaignOptions } from "../../campaigns/ipopt/run/options.ts";

const rdkit = await loadRDKit();
const width = ATOM_FIELDS.length;

/** Atom `i`'s codes by field name. */
function atom(graph: MolGraph, i: number): Record<string, number> {
  const codes = graph.atoms.slice(i * width, (i + 1) * width);
  return Object.fromEntries(ATOM_FIELDS.map((f, k) => [f.name, codes[k] ?? -1]));
}

function bonds(graph: MolGraph): [number, number, string][] {
  const out: [number, number, string][] = [];
  for (let k = 0; k < graph.bonds.length; k += 3) {
    const [i = -1, j = -1, t = -1] = graph.bonds.slice(k, k + 3);
    out.push([i, j, BOND_TYPES[t] ?? "?"]);
  }
  return out;
}

describe("molecular graphs for the MPNN", () => {
  it("benzene: six aromatic sp2 ring carbons with one H, six aromatic bonds", () => {
    const g = moleculeGraph(rdkit, "c1ccccc1");
    expect(g.atoms).toHaveLength(6 * width);
    for (let i = 0; i < 6; i++) {
      expect(atom(g, i)).toEqual({
        element: ELEMENTS.indexOf(6),
        charge: 2,
        aromatic: 1,
        hydrogens: 1,
        degree: 2,
        hybridization: 1,
        inRing: 1,
      });
    }
    expect(bonds(g).map((b) => b[2])).toEqual(Array(6).fill("aromatic"));
  });

  it("charged atoms, hydrogens, degree and bond orders", () => {
    const nitro = moleculeGraph(rdkit, "C[N+](=O)[O-]");
    expect(atom(nitro, 1)).toMatchObject({ element: ELEMENTS.indexOf(7), charge: 3, degree: 3 });
    expect(atom(nitro, 3)).toMatchObject({ element: ELEMENTS.indexOf(8), charge: 1, degree: 1 });
    expect(atom(nitro, 0)).toMatchObject({ hydrogens: 3, hybridization: 0, inRing: 0 });
    expect(bonds(nitro)).toEqual([
      [0, 1, "single"],
      [1, 2, "double"],
      [1, 3, "single"],
    ]);
    const nitrile = moleculeGraph(rdkit, "CC#N");
    expect(atom(nitrile, 1)).toMatchObject({ hybridization: 2, hydrogens: 0 });
    expect(bonds(nitrile)[1]).toEqual([1, 2, "triple"]);
    const ammonium = moleculeGraph(rdkit, "[NH4+]");
    expect(atom(ammonium, 0)).toMatchObject({ charge: 3, hydrogens: 4, degree: 0 });
    expect(ammonium.bonds).toEqual([]);
  });

  it("pyrrole's [nH] keeps its hydrogen; unknown elements share the last code", () => {
    const pyrrole = moleculeGraph(rdkit, "c1cc[nH]c1");
    expect(atom(pyrrole, 3)).toMatchObject({ element: ELEMENTS.indexOf(7), hydrogens: 1 });
    expect(atom(pyrrole, 3).aromatic).toBe(1);
    expect(atom(moleculeGraph(rdkit, "[Se]"), 0).element).toBe(ELEMENTS.length);
  });

  it("a SMILES RDKit cannot read is a TaskFailedError naming it", () => {
    for (const bad of ["C1CC", "not a smiles", ""]) {
      expect(() => moleculeGraph(rdkit, bad)).toThrow(TaskFailedError);
      expect(() => moleculeGraph(rdkit, bad)).toThrow(`"${bad}"`);
    }
    expect(() => graphBatch(rdkit, ["CCO", "C1CC"])).toThrow('RDKit cannot read SMILES "C1CC"');
  });

  it("a batch carries its feature layout; the cache gives the same graphs", () => {
    const batch = graphBatch(rdkit, ["CCO", "c1ccccc1"]);
    expect(batch.format).toBe(GRAPH_FORMAT);
    expect(batch.atomFields.map((f) => f.size)).toEqual(ATOM_FIELDS.map((f) => f.size));
    expect(batch.bondTypes).toEqual([...BOND_TYPES]);
    const cache = new GraphCache(rdkit);
    expect(cache.molecules(["CCO", "c1ccccc1"])).toEqual(batch);
    let reads = 0;
    const smiles = () => {
      reads++;
      return ["CCO", "c1ccccc1"];
    };
    expect(cache.chunk(0, smiles)).toEqual(batch);
    expect(cache.chunk(0, smiles)).toEqual(batch);
    expect(reads).toBe(1);
  });

  it("the MPNN backend sends graphs and the campaign's epochs; the GP backend SMILES", async () => {
    const common = { gpFunctions: { train: "t", infer: "i" }, numEpochs: 7, learningRate: 0.01 };
    const mpnn = await createMlBackend({ backend: "mpnn", seed: 2, ...common });
    const rows = [
      { smiles: "CCO", ip: 10.9 },
      { smiles: "CC#N", ip: 12.5 },
    ];
    expect(mpnn.functions).toEqual({ train: "ipopt-train-mpnn", infer: "ipopt-infer-mpnn" });
    expect(mpnn.trainArgs(rows, 3)).toMatchObject({
      graphs: { format: GRAPH_FORMAT },
      ip: [10.9, 12.5],
      options: { epochs: 7, learningRate: 0.01, seed: 2003 },
    });
    const gp = await createMlBackend({ backend: "gp", seed: 0, ...common });
    expect(gp.functions).toEqual({ train: "t", infer: "i" });
    expect(gp.inferArgs({ kind: "x" }, 0, () => ["CCO"])).toEqual({
      model: { kind: "x" },
      smiles: ["CCO"],
    });
  });

  it("--ml-backend defaults to auto and takes mpnn with --ml-python", () => {
    const base = { qcEndpoint: "cpu", mlEndpoint: "gpu", numQcWorkers: 2 };
    expect(resolveCampaignOptions(base)).toMatchObject({ mlBackend: "auto", mlPython: "python3" });
    expect(
      resolveCampaignOptions({ ...base, mlBackend: "mpnn", mlPython: "/opt/py", numEpochs: "64" }),
    ).toMatchObject({ mlBackend: "mpnn", mlPython: "/opt/py", numEpochs: 64 });
    expect(() => resolveCampaignOptions({ ...base, mlBackend: "svm" })).toThrow(
      "campaign option mlBackend",
    );
  });

  it("the shell function's argv carries the script itself", () => {
    const argv = mpnnArgv("/opt/venv/bin/python", "infer");
    expect(argv).toEqual(["/opt/venv/bin/python", "-c", mpnnSource(), "infer"]);
    expect(mpnnSource()).toContain("def infer(");
    // Linux's limit on one argument.
    expect(Buffer.byteLength(mpnnSource())).toBeLessThan(128 * 1024);
  });
});
