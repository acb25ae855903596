// Re-runs the simulate function on the shipped molecules to find relaxations that changed the
// molecule (a bond broken or formed). Appends one JSON line per molecule and resumes where it
// stopped. The order is the check's priority, so a run stopped early has checked a subset that
// is easy to state: every training molecule, then every oracle value outside the 2nd-98th
// percentile, then the other oracle molecules in a seeded shuffle. Usage:
//   node campaigns/ipopt/data/check-bonds.ts --out <file.jsonl> [--workers 2] [--seed 18]
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigError, describeError } from "#core/errors.ts";
import { computeIp } from "../simulate/index.ts";
import { bondCheckOrder } from "./bond-check-order.ts";
import { ORACLE_PATH, TRAINING_SET_PATH } from "./files.ts";
import { readOracle } from "./oracle.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    workers: { type: "string", default: "2" },
    seed: { type: "string", default: "18" },
  },
});
if (values.out === undefined) throw new ConfigError("--out <file.jsonl> is required");
const out = values.out;
const training = (await readOracle(TRAINING_SET_PATH)).molecules;
const oracle = (await readOracle(ORACLE_PATH)).molecules;
const todo = bondCheckOrder(training, oracle, Number(values.seed));
// The whole order, for apply-bond-check.ts: the files it applies to may already have lost some.
await writeFile(`${out}.order.json`, `${JSON.stringify(todo)}\n`);
const done = new Set<string>();
const previous = await readFile(out, "utf8").catch(() => "");
for (const line of previous.split("\n")) {
  if (line.trim()) done.add((JSON.parse(line) as { smiles: string }).smiles);
}
const queue = todo.filter((row) => !done.has(row.smiles));
console.log(`${done.size} done, ${queue.length} to go, ${values.workers} workers -> ${out}`);
let next = 0;
async function worker(): Promise<void> {
  for (let i = next++; i < queue.length; i = next++) {
    const row = queue[i];
    if (row === undefined) break;
    const record = await computeIp(row.smiles, { walltimeSeconds: 300 })
      .then((r) => ({
        ip: Number.isFinite(r.ipEv) ? Math.round(r.ipEv * 1e4) / 1e4 : null,
        structureChange: r.structureChange?.reason ?? null,
        runtimeMs: Math.round(r.runtimeMs),
      }))
      .catch((error: unknown) => ({ error: describeError(error) }));
    await appendFile(out, `${JSON.stringify({ ...row, ...record })}\n`);
  }
}
await Promise.all(Array.from({ length: Number(values.workers) }, worker));
console.log(`finished: ${todo.length} checked`);
