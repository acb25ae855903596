// Function code is untrusted: whatever the agent holds (AWS keys, a session token, its
// deployment file), a function finds none of it in its environment, node or shell alike.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import type { EndpointRecord } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import {
  connectForTest,
  ferryEnv,
  runFerry,
  runFerryJson,
  startTestAgent,
} from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const SECRETS = {
  AWS_ACCESS_KEY_ID: `AKIAFERRY${suffix.toUpperCase()}`,
  AWS_SECRET_ACCESS_KEY: `secret-${suffix}-do-not-leak`,
  AWS_SESSION_TOKEN: `token-${suffix}-do-not-leak`,
};
let conn: Connection;
let endpoint: EndpointRecord;
let agent: AgentProcess;
let agentEnv: NodeJS.ProcessEnv;

interface Dump {
  env: Record<string, string>;
  home?: string;
}

beforeAll(async () => {
  conn = await connectForTest();
  const dir = await mkdtemp(join(tmpdir(), "ferry-fenv-"));
  endpoint = await runFerryJson<EndpointRecord>(["endpoint", "register", `fenv-${suffix}`]);
  await runFerryJson([
    "function",
    "register",
    "test/fixtures/functions/env-dump.ts",
    "--name",
    `env-${suffix}`,
  ]);
  const script = join(dir, "env.mjs");
  await writeFile(script, "process.stdout.write(JSON.stringify({ env: process.env }));\n");
  await runFerryJson([
    "function",
    "register",
    "--name",
    `shenv-${suffix}`,
    "--shell",
    process.execPath,
    script,
  ]);
  // The agent's own environment holds credentials (the emulator accepts any) and more.
  agentEnv = ferryEnv({ ...SECRETS, FERRY_TEST_PASSED: "yes", FERRY_TEST_HIDDEN: "no" });
  agent = await startTestAgent(
    endpoint.endpointId,
    { workers: 2, heartbeatIntervalSeconds: 1, passEnv: ["FERRY_TEST_PASSED"] },
    agentEnv,
  );
}, 120_000);

afterAll(async () => {
  await agent?.stop(10_000);
  conn?.close();
});

async function dumpOf(fn: string): Promise<Dump> {
  const r = await runFerry(["run", fn, "-e", endpoint.endpointId]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Dump;
}

function expectNoSecrets(dump: Dump): void {
  const names = Object.keys(dump.env);
  expect(names.filter((n) => n.startsWith("AWS_"))).toEqual([]);
  for (const name of ["FERRY_HOME", "FERRY_DEPLOYMENT", "FERRY_TEST_HIDDEN"])
    expect(names).not.toContain(name);
  const text = JSON.stringify(dump);
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  expect(text).not.toContain(String(agentEnv.FERRY_DEPLOYMENT));
  // Only what passEnv names gets through, besides PATH and Ferry's own.
  expect(dump.env.FERRY_TEST_PASSED).toBe("yes");
  expect(dump.env.FERRY_ENDPOINT_ID).toBe(endpoint.endpointId);
  expect(dump.env.PATH).toBe(agentEnv.PATH);
  // A HOME of its own: no SDK finds the agent user's ~/.aws through it.
  expect(dump.env.HOME).not.toBe(agentEnv.HOME);
}

describe("a function's environment", () => {
  it("a node function sees no AWS credentials, no deployment, only what passEnv names", async () => {
    const dump = await dumpOf(`env-${suffix}`);
    expectNoSecrets(dump);
    expect(dump.home).toBe(dump.env.HOME);
  });

  it("a shell function sees the same, plus its task's FERRY_* variables", async () => {
    const dump = await dumpOf(`shenv-${suffix}`);
    expectNoSecrets(dump);
    expect(dump.env.FERRY_TASK_ID).toMatch(/^[0-9a-f-]{36}$/);
    expect(dump.env.FERRY_SCRATCH_DIR).toBe(dump.env.HOME);
  });
});
