import { fileURLToPath } from "node:url";

/**
 * Ferry ships as TypeScript source. Node >= 22.18 strips types itself, but never for files
 * under node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING), which is where an npm
 * install puts Ferry; a Node before 22.18 does not strip by default. Then tsx loads the sources.
 */
export function needsTsLoader(): boolean {
  return !process.features.typescript || fileURLToPath(import.meta.url).includes("/node_modules/");
}

/**
 * Node flags that let a child process or worker thread load Ferry's own .ts entry points:
 * none where Node strips the types itself.
 */
export function tsLoaderExecArgv(): string[] {
  return needsTsLoader() ? ["--import", import.meta.resolve("tsx")] : [];
}
