#!/usr/bin/env node
import module from "node:module";

// Cache compiled (and type-stripped) modules between runs: ferry --version 0.78 -> 0.60 s here.
// Lives in the OS temp dir; NODE_COMPILE_CACHE moves it, NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.();
// Node >= 23.6 strips TypeScript types natively; older supported Nodes (22.12+) load tsx instead.
if (!process.features.typescript) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import("../cli/main.ts");
