// What a command line loads before it does anything: `ferry endpoint list` only calls the
// control plane, so the S3 and SQS clients (and the SDK's executor, stores and msgpackr) must
// not be among its modules. Run with no deployment: it loads the command, then says so.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HOOK = fileURLToPath(new URL("../fixtures/hooks/list-loaded.mjs", import.meta.url));

function loadedBy(...args: string[]): string[] {
  const out = spawnSync(process.execPath, ["--import", HOOK, "bin/ferry.js", ...args], {
    cwd: ROOT,
    env: { ...process.env, FERRY_HOME: "/nonexistent-ferry-home", FERRY_DEPLOYMENT: "" },
    encoding: "utf8",
  });
  const [, list = ""] = out.stderr.split("--- loaded modules ---\n");
  return list.split("\n").filter(Boolean);
}

describe("ferry endpoint list's start", () => {
  it("loads the control client, not the S3 or SQS client nor the SDK's executor", () => {
    const loaded = loadedBy("endpoint", "list");
    expect(loaded.some((u) => u.includes("/cli/commands/endpoint.ts"))).toBe(true);
    expect(loaded.some((u) => u.includes("@aws-sdk/client-lambda"))).toBe(true);
    for (const heavy of [
      "@aws-sdk/client-s3",
      "@aws-sdk/client-sqs",
      "/sdk/executor.ts",
      "msgpackr",
    ])
      expect(loaded.filter((u) => u.includes(heavy))).toEqual([]);
  });
});
