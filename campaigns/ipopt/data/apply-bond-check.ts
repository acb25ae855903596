// Applies the output of check-bonds.ts (<check.jsonl> and the <check.jsonl>.order.json it wrote)
// to the shipped files: removes every molecule whose relaxation broke or formed a bond, and says
// in each file's provenance what was checked, how, and what was removed. Molecules the check
// has not reached stay, flagged. Can be re-run as the check goes on.
//   node campaigns/ipopt/data/apply-bond-check.ts --in <check.jsonl> [--computed <ISO date>]
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { z } from "zod";
import { ConfigError } from "#core/errors.ts";
import { type BondCheckRow, TAIL_PERCENT, tailBounds } from "./bond-check-order.ts";
import { ORACLE_PATH, TRAINING_SET_PATH, writeText } from "./files.ts";
import { type OracleFile, readOracle } from "./oracle.ts";

const CheckLine = z.object({
  file: z.enum(["training", "oracle"]),
  group: z.string(),
  rank: z.number().int(),
  smiles: z.string(),
  shippedIp: z.number(),
  ip: z.number().nullable().optional(),
  structureChange: z.string().nullable().optional(),
  error: z.string().optional(),
});
type CheckLine = z.infer<typeof CheckLine>;

const { values } = parseArgs({
  options: {
    in: { type: "string" },
    // The seed check-bonds.ts ran with, for the provenance.
    seed: { type: "string", default: "18" },
    computed: { type: "string", default: new Date().toISOString().slice(0, 10) },
    // Print what would change; write nothing.
    "dry-run": { type: "boolean", default: false },
  },
});
if (values.in === undefined) throw new ConfigError("--in <check.jsonl> is required");
const lines = (await readFile(values.in, "utf8"))
  .split("\n")
  .filter((line) => line.trim())
  .map((line, i) => {
    const parsed = CheckLine.safeParse(JSON.parse(line));
    if (!parsed.success) throw new ConfigError(`${values.in} line ${i + 1} is not a check line`);
    return parsed.data;
  });
const training = await readOracle(TRAINING_SET_PATH);
const oracle = await readOracle(ORACLE_PATH);
const seed = Number(values.seed);
const order = JSON.parse(await readFile(`${values.in}.order.json`, "utf8")) as BondCheckRow[];
const bySmiles = new Map(lines.map((line) => [line.smiles, line]));
// The checked set is a prefix of the order (workers finish out of order: take the longest
// prefix with every molecule done, so the subset is exactly "the first n").
let prefix = 0;
while (prefix < order.length && bySmiles.has(order[prefix]?.smiles ?? "")) prefix++;
const checked = new Set(order.slice(0, prefix).map((row) => row.smiles));

const command =
  `node campaigns/ipopt/data/check-bonds.ts --out <check.jsonl> --seed ${seed}; ` +
  `node campaigns/ipopt/data/apply-bond-check.ts --in <check.jsonl> --seed ${seed}`;
const method =
  "each molecule re-run through computeIp (same seed-1 geometry); after each xtb relaxation " +
  "Open Babel perceives the bonds of the relaxed xyz (ConnectTheDots) and the heavy-atom " +
  "bonds are compared with the input molecule's; a bond broken or formed fails the molecule";

function apply(file: OracleFile, which: "training" | "oracle", subset: string): OracleFile {
  const rows = order.filter((row) => row.file === which);
  const done = rows.filter((row) => checked.has(row.smiles));
  const changed = new Map<string, CheckLine>();
  const errors: { smiles: string; error: string }[] = [];
  for (const row of done) {
    const line = bySmiles.get(row.smiles) as CheckLine;
    if (line.structureChange) changed.set(row.smiles, line);
    else if (line.error) errors.push({ smiles: row.smiles, error: line.error });
  }
  const agree = done.flatMap((row) => {
    const line = bySmiles.get(row.smiles);
    return line?.ip == null ? [] : [Math.abs(line.ip - row.shippedIp)];
  });
  const all = done.length === rows.length;
  const molecules = file.molecules
    .filter((m) => !changed.has(m.smiles))
    .map(({ smiles, ip }) =>
      all ? { smiles, ip } : { smiles, ip, bondsChecked: checked.has(smiles) },
    );
  const removed = [
    ...removedOf(file).filter((m) => !changed.has(m.smiles)),
    ...[...changed.values()].map(removedRow),
  ];
  const bondCheck = {
    method,
    command,
    computed: values.computed,
    checked: `${done.length} of ${rows.length} molecules: ${all ? "all" : subset}`,
    removed: removed.length,
    checkFailedToRun: errors,
    recomputedIpMaxDiffEv: Math.round(Math.max(0, ...agree) * 1e4) / 1e4,
  };
  return { provenance: { ...file.provenance, bondCheck, removedByBondCheck: removed }, molecules };
}

function removedRow(line: CheckLine) {
  return { smiles: line.smiles, ip: line.shippedIp, reason: line.structureChange ?? "" };
}

/** Molecules an earlier apply removed (kept in the provenance). */
function removedOf(file: OracleFile): { smiles: string; ip: number }[] {
  const list = file.provenance.removedByBondCheck;
  return Array.isArray(list) ? (list as { smiles: string; ip: number }[]) : [];
}

const { low, high } = tailBounds(order.filter((r) => r.file === "oracle").map((r) => r.shippedIp));
const oracleTail = order.filter((row) => row.group === "oracle-tail").length;
const sampled = order.filter((row) => row.group === "oracle-sample" && checked.has(row.smiles));
const oracleSubset =
  `the ${oracleTail} values below the ${TAIL_PERCENT}nd percentile (${low} eV) or above the ` +
  `${100 - TAIL_PERCENT}th (${high} eV), then the first ${sampled.length} of the others in a ` +
  `seeded shuffle (bondCheckOrder, seed ${seed}): a random sample; "bondsChecked" on each molecule says whether it was checked`;
const newTraining = apply(training, "training", "a prefix of the file");
const newOracle = apply(oracle, "oracle", oracleSubset);
if (!values["dry-run"]) {
  await writeText(TRAINING_SET_PATH, `${JSON.stringify(newTraining, null, 1)}\n`);
  await writeText(ORACLE_PATH, `${JSON.stringify(newOracle, null, 1)}\n`);
}
for (const [name, file] of [
  ["training set", newTraining],
  ["oracle", newOracle],
] as const) {
  console.log(`${name}: ${JSON.stringify(file.provenance.bondCheck)}`);
}
