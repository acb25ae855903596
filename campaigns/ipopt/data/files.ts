import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";

/** Shipped data files of the campaign. */
export const DATA_DIR = fileURLToPath(new URL(".", import.meta.url));
export const SEARCH_SPACE_PATH = `${DATA_DIR}search-space.smi.gz`;
export const ORACLE_PATH = `${DATA_DIR}oracle.json.gz`;
export const TRAINING_SET_PATH = `${DATA_DIR}training-set.json.gz`;

/** Reads a file, gunzipping when its name ends in .gz. */
export async function readText(path: string): Promise<string> {
  const bytes = await readFile(path);
  return path.endsWith(".gz") ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8");
}

/** Writes a file, gzipping when its name ends in .gz (level 9: shipped in the repository). */
export async function writeText(path: string, text: string): Promise<void> {
  await writeFile(path, path.endsWith(".gz") ? gzipSync(text, { level: 9 }) : text);
}

/** One SMILES per line; lines starting with # are comments. */
export async function readSmilesFile(path: string = SEARCH_SPACE_PATH): Promise<string[]> {
  const text = await readText(path);
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}
