#!/usr/bin/env node
import module from "node:module";

// Cache compiled (and type-stripped) modules between runs: ferry --version 0.78 -> 0.60 s here.
// Lives in the OS temp dir; NODE_COMPILE_CACHE moves it, NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.();
// Node >= 22.18 strips TypeScript types natively, but not under node_modules (an npm install of
// Ferry); there, and on a Node without type stripping (before 22.18), tsx loads the sources (core/ts-loader.ts says the same
// to the child processes Ferry starts).
const inNodeModules = import.meta.url.includes("/node_modules/");
if (!process.features.typescript || inNodeModules) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import("../cli/main.ts");
