import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import rdkitPackage, { type MainModule } from "@rdkit/rdkit";
import { ConfigError } from "#core/errors.ts";

export type RDKit = MainModule;

let loading: Promise<RDKit> | undefined;

/**
 * The RDKit WebAssembly module, loaded once per process (about 0.3 s). Works from source and
 * from an esbuild bundle, where the wasm file is not next to the code: it is found through
 * $FERRY_RDKIT_WASM, or node_modules seen from this file or from the working directory.
 */
export function loadRDKit(): Promise<RDKit> {
  loading ??= load();
  return loading;
}

async function load(): Promise<RDKit> {
  const wasm = locateWasm();
  // Inlined into an ES module, RDKit's CommonJS loader reads a free __dirname before it asks
  // locateFile: give it one.
  const global = globalThis as { __dirname?: string };
  if (typeof __dirname === "undefined" && global.__dirname === undefined) {
    global.__dirname = dirname(wasm);
  }
  // The package is CommonJS: the default import is module.exports; .default is the factory.
  return rdkitPackage.default({ locateFile: () => wasm });
}

function locateWasm(): string {
  const fromEnv = process.env.FERRY_RDKIT_WASM;
  if (fromEnv) return fromEnv;
  for (const base of [import.meta.url, join(process.cwd(), "package.json")]) {
    try {
      // The package exports only its main file; the wasm lies next to it.
      return join(dirname(createRequire(base).resolve("@rdkit/rdkit")), "RDKit_minimal.wasm");
    } catch {
      // try the next place
    }
  }
  throw new ConfigError("cannot find RDKit_minimal.wasm", {
    hint: "npm install @rdkit/rdkit where the function runs, or set FERRY_RDKIT_WASM",
  });
}
