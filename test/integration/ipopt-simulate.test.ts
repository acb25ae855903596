import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TaskFailedError, TaskTimeoutError } from "#core/errors.ts";
import simulate from "../../campaigns/ipopt/functions/simulate.ts";
import { computeIp } from "../../campaigns/ipopt/simulate/index.ts";

const EV_PER_HARTREE = 27.211386;
const env = { ...process.env, XTBPATH: "/usr/share/xtb", OMP_NUM_THREADS: "1" };

/** The recipe run by hand: obabel geometry, xtb --opt neutral, then the cation from it. */
function byHand(smiles: string): { adiabaticEv: number; verticalEv: number } {
  const dir = mkdtempSync(join(tmpdir(), "ipopt-by-hand-"));
  try {
    const sdf = execFileSync("obabel", [`-:${smiles}`, "--gen3d", "-osdf"], { env, stdio: "pipe" });
    const run = (sub: string, input: string, args: string[]) => {
      const cwd = join(dir, sub);
      execFileSync("mkdir", ["-p", cwd]);
      writeFileSync(join(cwd, "in.sdf"), input);
      return execFileSync("xtb", ["in.sdf", ...args], { cwd, env, stdio: "pipe" }).toString();
    };
    const energy = (out: string) => Number(/TOTAL ENERGY\s+(\S+) Eh/.exec(out)?.[1]);
    const neutral = energy(run("n", sdf.toString(), ["--opt"]));
    const relaxed = readFileSync(join(dir, "n", "xtbopt.sdf"), "utf8");
    const cation = energy(run("c", relaxed, ["--opt", "--chrg", "1", "--uhf", "1"]));
    const vip = run("v", relaxed, ["--vip"]);
    return {
      adiabaticEv: (cation - neutral) * EV_PER_HARTREE,
      verticalEv: Number(/delta SCC IP \(eV\):\s+(\S+)/.exec(vip)?.[1]),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("computeIp (obabel + GFN2-xTB)", () => {
  // Small rigid molecules: every starting geometry relaxes to the same minimum.
  const known = ["C", "O", "N", "C=O", "CC#N", "c1ccccc1"];

  it.each(known)("%s agrees with xtb run by hand to 0.05 eV", async (smiles) => {
    const reference = byHand(smiles);
    const adiabatic = await computeIp(smiles, { method: "xtb-adiabatic" });
    const vertical = await computeIp(smiles, { method: "xtb-vertical" });
    expect(Math.abs(adiabatic.ipEv - reference.adiabaticEv)).toBeLessThan(0.05);
    expect(Math.abs(vertical.ipEv - reference.verticalEv)).toBeLessThan(0.05);
    expect(adiabatic.ipEv).toBeGreaterThan(8);
    expect(adiabatic.ipEv).toBeLessThan(20);
    expect(adiabatic.structureChange).toBeNull();
    expect(vertical.structureChange).toBeNull();
  });

  // Shipped once in the oracle at 7.14 eV: the cation's relaxation opens the aziridine-like
  // ring, so the number was the IP of another molecule.
  it("fails a molecule whose cation opens a ring, with the bond it broke", async () => {
    const result = await computeIp("COC1(N)C2=NNN1C2");
    expect(Number.isNaN(result.ipEv)).toBe(true);
    expect(result.structureChange).toMatchObject({ relaxation: "cation", broken: ["C3-N8"] });
    expect(result.structureChange?.ringsAfter).toBeLessThan(
      result.structureChange?.ringsBefore ?? 0,
    );
    expect(result.structureChange?.reason).toMatch(/^cation relaxation broke the C3-N8 bond/);
    expect(result.energies.cationHartree).toBeLessThan(0);
  });

  it("keeps a strained ring whose relaxations hold it (bicyclobutane)", async () => {
    const result = await computeIp("C1C2CC12");
    expect(result.structureChange).toBeNull();
    expect(result.ipEv).toBeGreaterThan(8);
  });

  it("gives the same IP twice for a flexible molecule (seeded geometry)", async () => {
    const smiles = "CCOC(=O)CCN1CCC1";
    const first = await computeIp(smiles, { seed: 3 });
    const second = await computeIp(smiles, { seed: 3 });
    expect(first.geometry).toBe("seeded");
    expect(Math.abs(first.ipEv - second.ipEv)).toBeLessThan(0.01);
  });

  it("reads the charge from the molecule: NH4+ -> dication", async () => {
    const result = await computeIp("[NH4+]");
    expect(result.charge).toBe(1);
    expect(result.unpaired).toBe(0);
    expect(result.ipEv).toBeGreaterThan(20);
  });

  it("rejects a bad SMILES with a clear error", async () => {
    const error = await computeIp("C1CC").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as Error).message).toMatch(/SMILES "C1CC".*unmatched ring bond/);
    await expect(computeIp("this is not a molecule")).rejects.toThrow(/SMILES/);
  });

  it("stops at the walltime", async () => {
    await expect(computeIp("CCCCCCCCC", { walltimeSeconds: 0.2 })).rejects.toBeInstanceOf(
      TaskTimeoutError,
    );
  });

  it("runs as a Ferry function: { smiles, method? } -> { smiles, ip, energies, method, runtimeMs }", async () => {
    const result = await simulate({ smiles: "C=O" });
    expect(result).toMatchObject({ smiles: "C=O", method: "xtb-adiabatic" });
    expect(result.ip).toBeGreaterThan(8);
    expect(result.energies.neutralHartree).toBeLessThan(0);
    expect(result.runtimeMs).toBeGreaterThan(0);
    await expect(simulate({ smiles: "C", method: "dft" as never })).rejects.toThrow(/method/);
  });

  it("as a Ferry function, returns no IP and the reason for a molecule that changed", async () => {
    const result = await simulate({ smiles: "CN1CC2(N)C=C1N2" });
    expect(result.ip).toBeNull();
    expect(result.rejected).toMatch(/^cation relaxation broke the C\d+-N\d+ bond/);
  });
});
