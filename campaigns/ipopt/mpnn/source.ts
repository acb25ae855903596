import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The network's Python source, shipped next to this file. */
export const MPNN_SCRIPT_PATH = fileURLToPath(new URL("./mpnn.py", import.meta.url));

export type MpnnEntry = "train" | "infer";

let source: string | undefined;

/** mpnn.py's text, read once. */
export function mpnnSource(): string {
  source ??= readFileSync(MPNN_SCRIPT_PATH, "utf8");
  return source;
}

/**
 * The shell function's argv: `<python> -c <source> <entry>`. The code travels inside the
 * registration, so its sha256 pins the exact script and the GPU host needs no checkout of this
 * repository, only Python and PyTorch. (Linux allows 128 KiB per argument; the script is far
 * below that.)
 * @param python interpreter on the endpoint's host, e.g. "python3" or a venv's python
 */
export function mpnnArgv(python: string, entry: MpnnEntry): string[] {
  return [python, "-c", mpnnSource(), entry];
}
