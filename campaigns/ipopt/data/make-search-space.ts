// Makes campaigns/ipopt/data/search-space.smi.gz. Usage:
//   node campaigns/ipopt/data/make-search-space.ts [--count 100000] [--seed 20261129] [--out path]
import { parseArgs } from "node:util";
import { loadRDKit } from "../chem/rdkit.ts";
import { SEARCH_SPACE_PATH, writeText } from "./files.ts";
import { generateSpace } from "./generate-space.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "100000" },
    seed: { type: "string", default: "20261129" },
    out: { type: "string", default: SEARCH_SPACE_PATH },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
const rdkit = await loadRDKit();
const started = performance.now();
const smiles = generateSpace(rdkit, { count, seed });
const header = [
  "# Ferry ipopt search space: generated small molecules (C, N, O, F; up to 9 heavy atoms)",
  `# generator: campaigns/ipopt/data/make-search-space.ts --count ${count} --seed ${seed}`,
  `# rdkit: ${rdkit.version()}; molecules: ${smiles.length}; canonical SMILES, in draw order`,
];
await writeText(values.out, `${[...header, ...smiles].join("\n")}\n`);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${smiles.length} molecules -> ${values.out} in ${seconds} s`);
