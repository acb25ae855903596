#!/usr/bin/env node
// Node >= 23.6 strips TypeScript types natively; older supported Nodes (22.12+) load tsx instead.
if (!process.features.typescript) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import("../cli/main.ts");
