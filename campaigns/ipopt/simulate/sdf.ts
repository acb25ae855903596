import { TaskFailedError } from "#core/errors.ts";

/** Atomic numbers of the elements we expect in organic molecules. */
const ATOMIC_NUMBER: Readonly<Record<string, number>> = {
  H: 1,
  He: 2,
  Li: 3,
  Be: 4,
  B: 5,
  C: 6,
  N: 7,
  O: 8,
  F: 9,
  Ne: 10,
  Na: 11,
  Mg: 12,
  Al: 13,
  Si: 14,
  P: 15,
  S: 16,
  Cl: 17,
  Ar: 18,
  K: 19,
  Ca: 20,
  Se: 34,
  Br: 35,
  I: 53,
};

/** Old-style charge field of a V2000 atom line: code -> formal charge. */
const CHARGE_CODE: Readonly<Record<number, number>> = { 1: 3, 2: 2, 3: 1, 5: -1, 6: -2, 7: -3 };

export interface SdfSummary {
  atomCount: number;
  /** Net formal charge. */
  charge: number;
  /** Number of electrons (sum of atomic numbers minus the charge). */
  electrons: number;
  /** Unpaired electrons of the molecule as written (xtb --uhf). */
  unpaired: number;
}

/** Reads charge and spin of the first molecule of a V2000 SDF (what obabel writes). */
export function summarizeSdf(sdf: string): SdfSummary {
  const lines = sdf.split(/\r?\n/);
  const counts = lines[3];
  if (counts === undefined || !counts.includes("V2000")) {
    throw new TaskFailedError("geometry is not a V2000 SDF molecule");
  }
  const atomCount = Number.parseInt(counts.slice(0, 3), 10);
  let protons = 0;
  const atomCharges: number[] = [];
  for (let i = 0; i < atomCount; i++) {
    const line = lines[4 + i] ?? "";
    const symbol = line.slice(31, 34).trim();
    const z = ATOMIC_NUMBER[symbol];
    if (z === undefined) throw new TaskFailedError(`unsupported element ${symbol} in geometry`);
    protons += z;
    atomCharges.push(CHARGE_CODE[Number.parseInt(line.slice(36, 39), 10)] ?? 0);
  }
  // Any "M  CHG" or "M  RAD" line supersedes every charge in the atom block (V2000 spec).
  if (lines.some((line) => line.startsWith("M  CHG") || line.startsWith("M  RAD"))) {
    atomCharges.fill(0);
  }
  let radicalElectrons = 0;
  for (const line of lines) {
    if (line.startsWith("M  END")) break;
    const fields = line.trim().split(/\s+/);
    if (line.startsWith("M  CHG")) {
      for (let k = 3; k + 1 < fields.length; k += 2) {
        atomCharges[Number(fields[k]) - 1] = Number(fields[k + 1]);
      }
    } else if (line.startsWith("M  RAD")) {
      // 1 = singlet (2 unpaired paired up), 2 = doublet, 3 = triplet.
      for (let k = 4; k < fields.length; k += 2) {
        const code = Number(fields[k]);
        radicalElectrons += code === 2 ? 1 : code === 3 ? 2 : 0;
      }
    }
  }
  const charge = atomCharges.reduce((sum, q) => sum + q, 0);
  const electrons = protons - charge;
  // The parity of the electron count decides; radical flags only raise the spin.
  let unpaired = radicalElectrons;
  if (unpaired % 2 !== electrons % 2) unpaired = electrons % 2;
  return { atomCount, charge, electrons, unpaired };
}
