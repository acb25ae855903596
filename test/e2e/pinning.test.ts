// Endpoints run only the code their owner pinned: a newer version registered under an allowed
// name is refused until the site config names it, and a shell function whose argv was changed
// after registration never runs.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import { registryKeys } from "#core/names.ts";
import type { EndpointRecord, FunctionRecord } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { connectForTest, runFerry, runFerryJson, startTestAgent } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
let conn: Connection;
let dir: string;
let endpoint: EndpointRecord;
let agent: AgentProcess | undefined;

async function startAgent(allowedFunctions: string[]): Promise<void> {
  await agent?.stop(10_000);
  agent = await startTestAgent(endpoint.endpointId, {
    workers: 1,
    heartbeatIntervalSeconds: 1,
    allowedFunctions,
  });
}

const register = (file: string, name: string) =>
  runFerryJson<FunctionRecord>([
    "function",
    "register",
    `test/fixtures/functions/${file}`,
    "--name",
    name,
  ]);

beforeAll(async () => {
  conn = await connectForTest();
  dir = await mkdtemp(join(tmpdir(), "ferry-pin-"));
  endpoint = await runFerryJson<EndpointRecord>(["endpoint", "register", `pin-${suffix}`]);
}, 60_000);

afterAll(async () => {
  await agent?.stop(10_000);
  conn?.close();
});

it("an endpoint pinned to a sha256 refuses a newer version until its config names it", async () => {
  const name = `pinned-${suffix}`;
  const v1 = await register("echo.ts", name);
  await startAgent([`${name}@sha256:${v1.sha256}`]);
  const ok = await runFerry(["run", name, "-e", endpoint.endpointId, "--args", '{"i": 1}']);
  expect(ok.code, ok.stderr).toBe(0);

  // Whoever may register functions registers other code under the allowed name.
  const v2 = await register("bigint.ts", name);
  expect(v2.sha256).not.toBe(v1.sha256);
  const refused = await runFerry(["run", name, "-e", endpoint.endpointId, "--args", '{"i": 1}']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(
    `failed: Refused: function ${name}@sha256:${v2.sha256} is not allowed here: this endpoint pins ${name} to sha256:${v1.sha256.slice(0, 12)}…; to run this version, add "${name}@sha256:${v2.sha256}" to its allowedFunctions`,
  );

  await startAgent([`${name}@sha256:${v1.sha256}`, `${name}@sha256:${v2.sha256}`]);
  const now = await runFerry(["run", name, "-e", endpoint.endpointId, "--args", '{"i": 2}']);
  expect(now.code, now.stderr).toBe(0);
  expect(JSON.parse(now.stdout)).toEqual({ i: 2 });
}, 180_000);

it("a shell function whose argv was changed after registration is refused", async () => {
  const name = `shell-${suffix}`;
  const script = join(dir, "hello.mjs");
  await writeFile(script, 'process.stdout.write(JSON.stringify({ hello: "world" }));\n');
  const fn = await runFerryJson<FunctionRecord>([
    "function",
    "register",
    "--name",
    name,
    "--shell",
    process.execPath,
    script,
  ]);
  await startAgent([name]);
  const ok = await runFerry(["run", name, "-e", endpoint.endpointId]);
  expect(JSON.parse(ok.stdout)).toEqual({ hello: "world" });

  // Someone who can write the registry swaps the command and keeps the pinned hash.
  const forged = {
    ...fn,
    spec: { kind: "shell", argv: [process.execPath, "-e", "process.exit(7)"] },
  };
  await conn.aws.s3.send(
    new PutObjectCommand({
      Bucket: conn.deployment.bucketName,
      Key: registryKeys.function(name, fn.sha256),
      Body: JSON.stringify(forged),
    }),
  );
  await startAgent([name]); // a fresh agent: nothing cached from before
  const refused = await runFerry(["run", name, "-e", endpoint.endpointId]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(
    `failed: Refused: function ${name}: its registered argv does not hash to sha256 ${fn.sha256}; the record was changed after registration`,
  );
}, 180_000);
