import { ConfigError } from "#core/errors.ts";
import { readText } from "./files.ts";

/** IPs computed by the simulate function for a set of molecules, with where they came from. */
export interface OracleFile {
  provenance: Provenance;
  molecules: OracleRecord[];
}

export interface OracleRecord {
  smiles: string;
  /** Ionization potential, eV. */
  ip: number;
}

export interface Provenance {
  description: string;
  method: string;
  command: string;
  /** Program versions (xtb, obabel, rdkit, node). */
  versions: Record<string, string>;
  /** ISO date the values were computed. */
  computed: string;
  [key: string]: unknown;
}

/**
 * Reads a shipped oracle (.json or .json.gz with { provenance, molecules }) or the raw JSON-lines
 * output of run-simulations.ts (failed molecules are skipped).
 */
export async function readOracle(path: string): Promise<OracleFile> {
  const text = await readText(path);
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") && /^\{\s*"provenance"/.test(trimmed)) {
    const parsed = JSON.parse(text) as OracleFile;
    if (!Array.isArray(parsed.molecules)) throw new ConfigError(`${path}: no "molecules" array`);
    return parsed;
  }
  const molecules: OracleRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { smiles?: string; ip?: number };
    if (typeof record.smiles === "string" && typeof record.ip === "number") {
      molecules.push({ smiles: record.smiles, ip: record.ip });
    }
  }
  if (molecules.length === 0) throw new ConfigError(`${path}: no molecules with an IP`);
  return {
    provenance: {
      description: `raw simulation output ${path}`,
      method: "unknown",
      command: "unknown",
      versions: {},
      computed: "unknown",
    },
    molecules,
  };
}
