// The shipped oracle and training set after the bond check (campaigns/ipopt/data/README.md):
// the molecules whose relaxation broke or formed a bond are gone and the provenance says so.
import { describe, expect, it } from "vitest";
import { ORACLE_PATH, readOracle, TRAINING_SET_PATH } from "../../campaigns/ipopt/data/index.ts";

interface Removed {
  smiles: string;
  ip: number;
  reason: string;
}

describe("shipped IP data, bond-checked", () => {
  it.each([
    ["training set", TRAINING_SET_PATH],
    ["oracle", ORACLE_PATH],
  ])("the %s says what was checked and lists what was removed, with reasons", async (_, path) => {
    const file = await readOracle(path);
    const check = file.provenance.bondCheck as {
      checked: string;
      removed: number;
      command: string;
    };
    expect(check.command).toMatch(/check-bonds\.ts .*apply-bond-check\.ts/);
    expect(check.checked).toMatch(/^\d+ of \d+ molecules: /);
    const removed = file.provenance.removedByBondCheck as Removed[];
    expect(removed).toHaveLength(check.removed);
    const kept = new Set(file.molecules.map((m) => m.smiles));
    for (const r of removed) {
      expect(kept.has(r.smiles), r.smiles).toBe(false);
      expect(r.reason).toMatch(/^(neutral|cation) relaxation (broke|formed) /);
    }
  });

  it("no longer holds the oracle's values below 8 eV: both were cations that opened", async () => {
    const oracle = await readOracle(ORACLE_PATH);
    expect(Math.min(...oracle.molecules.map((m) => m.ip))).toBeGreaterThan(8);
    const removed = oracle.provenance.removedByBondCheck as Removed[];
    const low = removed.filter((r) => r.ip < 8).map((r) => r.smiles);
    expect(low.sort()).toEqual(["CN1CC2(N)C=C1N2", "COC1(N)C2=NNN1C2"]);
  });
});
