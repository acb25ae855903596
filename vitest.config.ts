import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Generous: e2e tests start real CLIs and agents, slow on a loaded 2-core machine.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Integration tests start child processes and share one emulator; two cores here.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
