// Computes IPs for a seeded sample of the search space with the simulate function, appending
// one JSON line per molecule so an interrupted run resumes where it stopped. Usage:
//   node campaigns/ipopt/data/run-simulations.ts --out <file.jsonl> [--count 4150]
//     [--seed 7] [--workers 2] [--method xtb-adiabatic] [--space search-space.smi.gz]
import { appendFile, readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigError, describeError } from "#core/errors.ts";
import { computeIp, type IpMethod } from "../simulate/index.ts";
import { readSmilesFile, SEARCH_SPACE_PATH } from "./files.ts";
import { sampleSpace } from "./sample-space.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    count: { type: "string", default: "4150" },
    seed: { type: "string", default: "7" },
    workers: { type: "string", default: "2" },
    method: { type: "string", default: "xtb-adiabatic" },
    space: { type: "string", default: SEARCH_SPACE_PATH },
  },
});
if (values.out === undefined) throw new ConfigError("--out <file.jsonl> is required");
const out = values.out;
const method = values.method as IpMethod;
const space = await readSmilesFile(values.space);
const todo = sampleSpace(space, Number(values.count), Number(values.seed));
const done = new Set<string>();
const previous = await readFile(out, "utf8").catch(() => "");
for (const line of previous.split("\n")) {
  if (line.trim()) done.add((JSON.parse(line) as { smiles: string }).smiles);
}
const queue = todo.filter((smiles) => !done.has(smiles));
console.log(`${done.size} done, ${queue.length} to go, ${values.workers} workers -> ${out}`);
let next = 0;
let finished = 0;
const started = performance.now();
async function worker(): Promise<void> {
  for (let i = next++; i < queue.length; i = next++) {
    const smiles = queue[i] as string;
    const record = await computeIp(smiles, { method, walltimeSeconds: 300 })
      .then((r) =>
        r.structureChange === null
          ? { smiles, ip: r.ipEv, energies: r.energies, runtimeMs: Math.round(r.runtimeMs) }
          : { smiles, error: r.structureChange.reason, runtimeMs: Math.round(r.runtimeMs) },
      )
      .catch((error: unknown) => ({ smiles, error: describeError(error) }));
    await appendFile(out, `${JSON.stringify({ index: todo.indexOf(smiles), ...record })}\n`);
    finished++;
    if (finished % 50 === 0) {
      const rate = finished / ((performance.now() - started) / 1000);
      console.log(`${done.size + finished}/${todo.length} (${rate.toFixed(2)} molecules/s)`);
    }
  }
}
await Promise.all(Array.from({ length: Number(values.workers) }, worker));
console.log(`finished: ${done.size + finished}/${todo.length}`);
