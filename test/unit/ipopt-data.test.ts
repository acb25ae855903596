import { describe, expect, it } from "vitest";
import { canonicalSmiles } from "../../campaigns/ipopt/chem/canonical.ts";
import { loadRDKit } from "../../campaigns/ipopt/chem/rdkit.ts";
import {
  ORACLE_PATH,
  readSmilesFile,
  TRAINING_SET_PATH,
} from "../../campaigns/ipopt/data/files.ts";
import { generateSpace } from "../../campaigns/ipopt/data/generate-space.ts";
import { readOracle } from "../../campaigns/ipopt/data/oracle.ts";
import { createRandom } from "../../campaigns/ipopt/data/random.ts";
import { isStrainAcceptable } from "../../campaigns/ipopt/data/random-molecule.ts";
import { sampleSpace } from "../../campaigns/ipopt/data/sample-space.ts";
import {
  parseTotalEnergyHartree,
  parseVipEv,
  summarizeSdf,
} from "../../campaigns/ipopt/simulate/index.ts";

describe("seeded random numbers", () => {
  it("repeats for a seed and differs between seeds", () => {
    const a = createRandom(3);
    const b = createRandom(3);
    const c = createRandom(4);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
  });
});

describe("search space generator", () => {
  it("is deterministic and yields valid, unique, small C/N/O/F molecules", async () => {
    const rdkit = await loadRDKit();
    const first = generateSpace(rdkit, { count: 500, seed: 11 });
    expect(generateSpace(rdkit, { count: 500, seed: 11 })).toEqual(first);
    expect(new Set(first).size).toBe(500);
    for (const smiles of first) {
      expect(canonicalSmiles(rdkit, smiles)).toBe(smiles);
      // Heavy atoms: every element letter but hydrogen (only C, N, O, F are allowed).
      const heavy = smiles.match(/[CNOFcno]/g)?.length ?? 0;
      expect(heavy).toBeGreaterThan(0);
      expect(heavy).toBeLessThanOrEqual(9);
      expect(smiles).toMatch(/^[CNOFcno0-9()=#[\]H+\-@/\\]+$/);
    }
  });

  it("rejects strained rings: triple bond in a ring, double bond in a 3-ring", () => {
    const ring = (orders: (1 | 2 | 3)[]) => ({
      atoms: orders.map(() => "C" as const),
      bonds: orders.map((order, i) => ({ a: i, b: (i + 1) % orders.length, order })),
    });
    expect(isStrainAcceptable(ring([1, 1, 1]))).toBe(true);
    expect(isStrainAcceptable(ring([2, 1, 1]))).toBe(false);
    expect(isStrainAcceptable(ring([3, 1, 1, 1, 1, 1]))).toBe(false);
    expect(isStrainAcceptable(ring([2, 1, 2, 1, 2, 1]))).toBe(true);
  });

  it("ships 100k molecules whose first ones the generator reproduces", async () => {
    const rdkit = await loadRDKit();
    const shipped = await readSmilesFile();
    expect(shipped.length).toBe(100_000);
    expect(new Set(shipped).size).toBe(100_000);
    expect(generateSpace(rdkit, { count: 300 })).toEqual(shipped.slice(0, 300));
    expect(sampleSpace(shipped, 5, 7)).toEqual(sampleSpace(shipped, 5, 7));
  });
});

describe("simulate parsing", () => {
  it("reads the charge and spin of an SDF, M  CHG lines included", () => {
    const sdf = [
      "",
      " OpenBabel",
      "",
      "  2  1  0  0  0  0  0  0  0  0999 V2000",
      "    0.0000    0.0000    0.0000 N   0  3  0  0  0  0  0  0  0  0  0  0",
      "    1.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0",
      "  1  2  1  0  0  0  0",
      "M  CHG  1   1   1",
      "M  END",
      "$$$$",
    ].join("\n");
    expect(summarizeSdf(sdf)).toEqual({ atomCount: 2, charge: 1, electrons: 12, unpaired: 0 });
    const radical = sdf.replace("M  CHG  1   1   1", "M  RAD  1   2   2");
    expect(summarizeSdf(radical)).toMatchObject({ charge: 0, electrons: 13, unpaired: 1 });
  });

  it("takes the last TOTAL ENERGY and the delta SCC IP", () => {
    const out = "| TOTAL ENERGY  -5.0 Eh |\n...\n| TOTAL ENERGY   -5.070544440612 Eh   |\n";
    expect(parseTotalEnergyHartree(out)).toBe(-5.070544440612);
    expect(parseTotalEnergyHartree("nothing")).toBeUndefined();
    expect(parseVipEv("delta SCC IP (eV):    9.0724\n")).toBe(9.0724);
  });
});

describe("shipped IP data", () => {
  it("the oracle subset and the training set carry provenance and do not overlap", async () => {
    const oracle = await readOracle(ORACLE_PATH);
    const training = await readOracle(TRAINING_SET_PATH);
    for (const file of [oracle, training]) {
      expect(file.provenance.method).toMatch(/xtb-adiabatic/);
      expect(file.provenance.versions.xtb).toMatch(/^6\./);
      expect(file.provenance.command).toMatch(/run-simulations\.ts/);
      expect(file.provenance.computed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      for (const m of file.molecules) {
        expect(Number.isFinite(m.ip)).toBe(true);
        expect(m.ip).toBeGreaterThan(5);
        expect(m.ip).toBeLessThan(30);
      }
    }
    // 3,111 computed; the bond check removed those whose relaxation changed the molecule.
    expect(oracle.molecules.length).toBeGreaterThanOrEqual(2900);
    expect(training.molecules.length).toBeGreaterThanOrEqual(100);
    expect(training.molecules.length).toBeLessThanOrEqual(200);
    const inOracle = new Set(oracle.molecules.map((m) => m.smiles));
    expect(training.molecules.filter((m) => inOracle.has(m.smiles))).toEqual([]);
    const space = new Set(await readSmilesFile());
    expect(oracle.molecules.every((m) => space.has(m.smiles))).toBe(true);
  });
});
