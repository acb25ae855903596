// How reproducible is simulate? Computes IPs of a sample of the search space twice with the
// same geometry seed, and once with another seed (a different starting conformer).
//   node bench/science-reproducibility.ts [--count 20] [--sample-seed 99] [--fallback]
// --fallback disables the seeded Open Babel clock (as on a machine without a C compiler),
// so the geometry is the lowest-MMFF94 of 8 random obabel conformers.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readSmilesFile } from "../campaigns/ipopt/data/files.ts";
import { sampleSpace } from "../campaigns/ipopt/data/sample-space.ts";
import { computeIp } from "../campaigns/ipopt/simulate/index.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "20" },
    "sample-seed": { type: "string", default: "99" },
    fallback: { type: "boolean", default: false },
  },
});
if (values.fallback) {
  process.env.CC = "false";
  process.env.FERRY_CACHE_DIR = mkdtempSync(join(tmpdir(), "ferry-no-shim-"));
}
const molecules = sampleSpace(
  await readSmilesFile(),
  Number(values.count),
  Number(values["sample-seed"]),
);
const same: number[] = [];
const other: number[] = [];
let strategy = "";
for (const smiles of molecules) {
  try {
    const [a, b, c] = [
      await computeIp(smiles, { seed: 1 }),
      await computeIp(smiles, { seed: 1 }),
      await computeIp(smiles, { seed: 2 }),
    ];
    strategy = a.geometry;
    same.push(Math.abs(a.ipEv - b.ipEv));
    other.push(Math.abs(a.ipEv - c.ipEv));
    console.log(
      `${smiles.padEnd(24)} ${a.ipEv.toFixed(3)} ${b.ipEv.toFixed(3)} ${c.ipEv.toFixed(3)}`,
    );
  } catch (error) {
    console.log(`${smiles.padEnd(24)} failed: ${(error as Error).message.slice(0, 80)}`);
  }
}
const stats = (xs: number[]) =>
  `mean ${(xs.reduce((s, x) => s + x, 0) / xs.length).toFixed(4)} eV, max ${Math.max(...xs).toFixed(4)} eV, ` +
  `> 0.01 eV: ${xs.filter((x) => x > 0.01).length}/${xs.length}, > 0.2 eV: ${xs.filter((x) => x > 0.2).length}`;
console.log(`geometry: ${strategy}`);
console.log(`same SMILES, same seed, twice: |dIP| ${stats(same)}`);
console.log(`same SMILES, seed 1 vs seed 2:  |dIP| ${stats(other)}`);
