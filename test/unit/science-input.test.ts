import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScienceInput } from "../../bench/science-input.ts";
import { ORACLE_PATH } from "../../campaigns/ipopt/data/index.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "science-input-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const molecules = [
  { smiles: "CCO", ip: 10.9 },
  { smiles: "CC#N", ip: 12.5 },
  { smiles: "FC(F)F", ip: 14.8 },
];

describe("bench:science input", () => {
  it("reads CSV and TSV with a header in any column order, or without one", async () => {
    const csv = await file("a.csv", "id,IP,SMILES\n1,10.9,CCO\n2,12.5,CC#N\n\n3,14.8,FC(F)F\n");
    expect((await readScienceInput(csv)).molecules).toEqual(molecules);
    const tsv = await file("b.tsv", "CCO\t10.9\r\nCC#N\t12.5\r\nFC(F)F\t14.8\r\n");
    expect((await readScienceInput(tsv)).molecules).toEqual(molecules);
    const quoted = await file("c.csv", '"smiles","ip"\n"CCO",10.9\n"CC#N",12.5\n"FC(F)F",14.8\n');
    expect((await readScienceInput(quoted)).molecules).toEqual(molecules);
  });

  it("reads the shipped oracle and simulation JSON lines, skipping failed simulations", async () => {
    const oracle = await readScienceInput(ORACLE_PATH);
    expect(oracle.molecules.length).toBeGreaterThan(1000);
    expect(oracle.provenance.method).not.toBe("unknown");
    const lines = [...molecules.map((m) => JSON.stringify(m)), '{"smiles":"CCC","ok":false}'];
    const jsonl = await file("sims.jsonl", `${lines.join("\n")}\n`);
    expect((await readScienceInput(jsonl)).molecules).toEqual(molecules);
  });

  it.each([
    ["bad-ip.csv", "smiles,ip\nCCO,10.9\nCC#N,twelve\n", ':3: IP "twelve" is not a number'],
    ["fields.csv", "CCO,10.9\nCC#N,12.5,x\n", ":2: 3 comma-separated fields, the first line has 2"],
    [
      "header.csv",
      "name,value,other\nCCO,10.9,1\n",
      ":1: the header (name, value, other) names no SMILES column",
    ],
    ["smiles.tsv", "smiles\tip\nCCO\t10.9\nC1CC\t12\n", ':3: RDKit cannot read SMILES "C1CC"'],
    ["one.txt", "CCO\nCCN\n", ":1: one field; want SMILES and IP columns"],
    ["sims.jsonl", '{"smiles":"CCO","ip":1}\n{"smiles":"CCN",\n', ":2: not a JSON line"],
    ["types.jsonl", '{"smiles":"CCO","ip":"1"}\n', ":1: ip: "],
    ["oracle.json", '{"provenance":{},"molecules":[{"smiles":"CCO"}]}', ": molecules.0.ip: "],
    ["broken.json", '{"provenance":{}, "molecules": [', ": not valid JSON"],
  ])("names the bad line of %s", async (name, text, message) => {
    const path = await file(name, text);
    await expect(readScienceInput(path)).rejects.toThrow(`${path}${message}`);
  });

  it("refuses a file with fewer than two molecules, and a missing file, in one line", async () => {
    const path = await file("short.csv", "CCO,10.9\n");
    await expect(readScienceInput(path)).rejects.toThrow(`${path}: 1 molecules with an IP`);
    await expect(readScienceInput(join(dir, "none.csv"))).rejects.toThrow("ENOENT");
  });

  it.each([
    [["--nope"], /^bench:science: Unknown option '--nope'\. usage: /],
    [[], /^usage: npm run bench:science -- /],
    [["bad.csv"], /bad\.csv: .*ENOENT/],
  ])("answers the command line %j with one line and status 2", async (args, line) => {
    const run = promisify(execFile)(process.execPath, ["bench/science.ts", ...args], {
      cwd: join(import.meta.dirname, "../.."),
    });
    const failed = await run.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr.trim().split("\n")).toHaveLength(1);
    expect(failed?.stderr).toMatch(line);
  });
});
