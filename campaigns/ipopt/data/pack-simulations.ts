// Packs the JSON lines of run-simulations.ts into the shipped files with provenance:
// the first --training rows of the sample -> training-set.json.gz, the rest -> oracle.json.gz.
//   node campaigns/ipopt/data/pack-simulations.ts --in <simulations.jsonl> [--training 150]
//     [--sample-seed 7] [--sample-count 4150] [--computed <ISO date>] [--source <jsonl>]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigError } from "#core/errors.ts";
import { loadRDKit } from "../chem/rdkit.ts";
import { ORACLE_PATH, SEARCH_SPACE_PATH, TRAINING_SET_PATH, writeText } from "./files.ts";
import type { OracleFile, OracleRecord } from "./oracle.ts";

const { values } = parseArgs({
  options: {
    in: { type: "string" },
    training: { type: "string", default: "150" },
    "sample-count": { type: "string", default: "4150" },
    // The run-simulations output the --in file was copied from, for the provenance.
    source: { type: "string" },
    "sample-seed": { type: "string", default: "7" },
    computed: { type: "string", default: new Date().toISOString().slice(0, 10) },
  },
});
if (values.in === undefined) throw new ConfigError("--in <simulations.jsonl> is required");
const trainingCount = Number(values.training);
interface Line {
  index: number;
  smiles: string;
  ip?: number;
  error?: string;
  runtimeMs?: number;
}
const lines = (await readFile(values.in, "utf8"))
  .split("\n")
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line) as Line)
  .sort((a, b) => a.index - b.index);
const version = (command: string, args: string[], pattern: RegExp) => {
  try {
    const out = execFileSync(command, args, {
      stdio: "pipe",
      env: { ...process.env, XTBPATH: "/usr/share/xtb" },
    });
    return pattern.exec(out.toString())?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
};
const versions = {
  xtb: version("xtb", ["--version"], /xtb version (\S+)/),
  obabel: version("obabel", ["-V"], /Open Babel (\S+)/),
  rdkit: (await loadRDKit()).version(),
  node: process.version,
};
const spaceSha256 = createHash("sha256")
  .update(await readFile(SEARCH_SPACE_PATH))
  .digest("hex");
const runtimes = lines.flatMap((line) => (line.runtimeMs === undefined ? [] : [line.runtimeMs]));
const base = {
  method:
    "xtb-adiabatic: GFN2-xTB 6.5.1; geometry obabel --gen3d (Open Babel clock pinned to seed 1, " +
    "so reproducible); neutral xtb --opt; cation --chrg 1 --uhf 1 --opt from the relaxed neutral; " +
    "IP = (E_cation - E_neutral) x 27.211386 eV/Eh (TOTAL ENERGY lines); a relaxation whose " +
    "heavy-atom bonds (Open Babel's perception of the relaxed geometry) differ from the input's " +
    "fails the molecule (listed under failed)",
  command:
    `node campaigns/ipopt/data/run-simulations.ts --out ${values.source ?? values.in} --count ${values["sample-count"]} ` +
    `--seed ${values["sample-seed"]} --workers 2; node campaigns/ipopt/data/pack-simulations.ts --in ${values.in} ` +
    `--training ${trainingCount}`,
  versions,
  computed: values.computed,
  searchSpace: { file: "campaigns/ipopt/data/search-space.smi.gz", sha256: spaceSha256 },
  sample: `sampleSpace(searchSpace, count, ${values["sample-seed"]}) (seeded shuffle); rows by index`,
  meanRuntimeMs: Math.round(runtimes.reduce((s, x) => s + x, 0) / Math.max(runtimes.length, 1)),
};
function pack(
  description: string,
  selected: Line[],
): OracleFile & { provenance: { failed: Line[] } } {
  const molecules: OracleRecord[] = selected.flatMap((line) =>
    line.ip === undefined ? [] : [{ smiles: line.smiles, ip: Math.round(line.ip * 1e4) / 1e4 }],
  );
  const failed = selected.filter((line) => line.ip === undefined);
  return { provenance: { description, ...base, failed }, molecules };
}
const training = pack(
  `initial training set: sample rows 0-${trainingCount - 1}, IPs computed by the simulate function`,
  lines.filter((line) => line.index < trainingCount),
);
const lastIndex = lines.at(-1)?.index ?? 0;
const oracle = pack(
  `oracle subset: sample rows ${trainingCount}-${lastIndex} (disjoint from the training set), IPs computed by the simulate function`,
  lines.filter((line) => line.index >= trainingCount),
);
await writeText(TRAINING_SET_PATH, `${JSON.stringify(training, null, 1)}\n`);
await writeText(ORACLE_PATH, `${JSON.stringify(oracle, null, 1)}\n`);
console.log(
  `training set: ${training.molecules.length} (${training.provenance.failed.length} failed) -> ${TRAINING_SET_PATH}\n` +
    `oracle: ${oracle.molecules.length} (${oracle.provenance.failed.length} failed) -> ${ORACLE_PATH}`,
);
