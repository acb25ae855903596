import { z } from "zod";
import { ConfigError } from "#core/errors.ts";
import { loadRDKit } from "../campaigns/ipopt/chem/rdkit.ts";
import { readText } from "../campaigns/ipopt/data/files.ts";
import type { OracleFile, OracleRecord } from "../campaigns/ipopt/data/oracle.ts";

/** A molecule and where it was read (file:line, or the file and its index), for errors. */
export interface LocatedRecord extends OracleRecord {
  where: string;
}

/**
 * Reads what bench:science replays: a shipped oracle (.json[.gz], { provenance, molecules }),
 * JSON lines of run-simulations.ts (records without an IP, failed simulations, are skipped), or
 * CSV/TSV with a SMILES and an IP column, with a header line or not. Anything else is a
 * ConfigError naming the file, the line and what is wrong with it, never a parser's stack.
 */
export async function readScienceInput(path: string): Promise<OracleFile> {
  let text: string;
  try {
    text = await readText(path);
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`, { cause: error });
  }
  const { provenance, molecules } = parseScienceText(path, text);
  if (molecules.length < 2) {
    throw new ConfigError(`${path}: ${molecules.length} molecules with an IP; a replay needs more`);
  }
  const rdkit = await loadRDKit();
  for (const m of molecules) {
    let mol: ReturnType<typeof rdkit.get_mol> = null;
    try {
      mol = rdkit.get_mol(m.smiles);
    } catch {
      mol = null;
    }
    const valid = mol?.is_valid() ?? false;
    mol?.delete();
    if (!valid) throw new ConfigError(`${m.where}: RDKit cannot read SMILES "${m.smiles}"`);
  }
  return { provenance, molecules: molecules.map(({ smiles, ip }) => ({ smiles, ip })) };
}

/** The molecules of `text`, each with where it was; an oracle file keeps its provenance. */
export function parseScienceText(
  path: string,
  text: string,
): { provenance: OracleFile["provenance"]; molecules: LocatedRecord[] } {
  const first = text.trimStart();
  if (first.startsWith("{") && /^\{\s*"provenance"/.test(first)) return parseOracleJson(path, text);
  const molecules = first.startsWith("{") ? parseJsonLines(path, text) : parseDelimited(path, text);
  return { provenance: unknownProvenance(path), molecules };
}

const OracleSchema = z.object({
  provenance: z.looseObject({}),
  molecules: z.array(z.object({ smiles: z.string().min(1), ip: z.number() })),
});

function parseOracleJson(
  path: string,
  text: string,
): { provenance: OracleFile["provenance"]; molecules: LocatedRecord[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = OracleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${path}: ${issue?.path.join(".")}: ${issue?.message}`, {
      cause: parsed.error,
      hint: 'an oracle file is { "provenance": {...}, "molecules": [{ "smiles", "ip" }] }',
    });
  }
  return {
    provenance: { ...unknownProvenance(path), ...parsed.data.provenance },
    molecules: parsed.data.molecules.map((m, i) => ({ ...m, where: `${path}: molecules.${i}` })),
  };
}

const SimulationLine = z.looseObject({ smiles: z.string().min(1), ip: z.number().optional() });

function parseJsonLines(path: string, text: string): LocatedRecord[] {
  const molecules: LocatedRecord[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const where = `${path}:${index + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new ConfigError(`${where}: not a JSON line: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const parsed = SimulationLine.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`${where}: ${issue?.path.join(".") || "line"}: ${issue?.message}`, {
        cause: parsed.error,
        hint: 'each line is a simulation record { "smiles", "ip" }',
      });
    }
    const { smiles, ip } = parsed.data;
    if (ip !== undefined) molecules.push({ smiles, ip, where });
  }
  return molecules;
}

const SMILES_NAMES = ["smiles", "smi"];
const IP_NAMES = ["ip", "ip_ev", "ipev", "ip (ev)", "ionization_potential", "ionisation_potential"];

/**
 * CSV or TSV, split by hand: a SMILES holds no comma, tab or double quote, so a field is the
 * text between delimiters (surrounding quotes are dropped). The delimiter is the tab when the
 * first line has one, else the comma. The first line is a header unless its second field is a
 * number; a header must name the SMILES and IP columns (or have just two).
 */
function parseDelimited(path: string, text: string): LocatedRecord[] {
  const lines = text.split(/\r?\n/);
  const firstIndex = lines.findIndex((l) => l.trim() !== "");
  const firstLine = lines[firstIndex] ?? "";
  const delimiter = firstLine.includes("\t") ? "\t" : ",";
  const shown = delimiter === "\t" ? "tab" : "comma";
  const split = (line: string) =>
    line.split(delimiter).map((f) => f.trim().replace(/^"(.*)"$/, "$1"));
  const head = split(firstLine);
  if (head.length < 2) {
    throw new ConfigError(
      `${path}:${firstIndex + 1}: one field; want SMILES and IP columns separated by a comma or a tab`,
      { hint: "bench:science reads an oracle .json[.gz], simulation JSON lines, or CSV/TSV" },
    );
  }
  const hasHeader = !isNumber(head[1] ?? "");
  const columns = hasHeader ? headerColumns(path, firstIndex + 1, head) : { smiles: 0, ip: 1 };
  const molecules: LocatedRecord[] = [];
  for (let i = hasHeader ? firstIndex + 1 : firstIndex; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = split(line);
    const where = `${path}:${i + 1}`;
    if (fields.length !== head.length) {
      throw new ConfigError(
        `${where}: ${fields.length} ${shown}-separated fields, the first line has ${head.length}`,
      );
    }
    const smiles = fields[columns.smiles] ?? "";
    const ip = fields[columns.ip] ?? "";
    if (smiles === "") throw new ConfigError(`${where}: the SMILES field is empty`);
    if (!isNumber(ip)) throw new ConfigError(`${where}: IP "${ip}" is not a number (eV)`);
    molecules.push({ smiles, ip: Number(ip), where });
  }
  return molecules;
}

function headerColumns(path: string, line: number, head: string[]): { smiles: number; ip: number } {
  const names = head.map((h) => h.toLowerCase());
  const smiles = names.findIndex((n) => SMILES_NAMES.includes(n));
  const ip = names.findIndex((n) => IP_NAMES.includes(n));
  if (smiles >= 0 && ip >= 0) return { smiles, ip };
  if (head.length === 2) return { smiles: 0, ip: 1 };
  throw new ConfigError(
    `${path}:${line}: the header (${head.join(", ")}) names no ${smiles < 0 ? "SMILES" : "IP"} column`,
    { hint: `name the columns smiles and ip (or give just those two)` },
  );
}

function isNumber(text: string): boolean {
  return text.trim() !== "" && Number.isFinite(Number(text));
}

function unknownProvenance(path: string): OracleFile["provenance"] {
  return {
    description: `molecules read from ${path}`,
    method: "unknown",
    command: "unknown",
    versions: {},
    computed: "unknown",
  };
}
