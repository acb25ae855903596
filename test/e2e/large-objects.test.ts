// A large task through the real path, on both emulators (FERRY_LOCAL_BACKEND=compat): the SDK
// puts 24 MB of arguments in parts; the agent hands its node worker, which holds no AWS
// credentials, a presigned URL that it reads by ranges, staging nothing; the result goes up in
// parts and the client reads it back by ranges, byte-identical. A result corrupted in the
// store fails with a clear IntegrityError, never wrong data.
import { randomFillSync } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import { IntegrityError } from "#core/errors.ts";
import type { EndpointRecord } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { type Executor, executorFor } from "#sdk/index.ts";
import { connectForTest, ferryEnv, runFerryJson, startTestAgent } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const MIB = 1024 * 1024;
const BIG = 24 * MIB + 5;
let conn: Connection;
const agents: AgentProcess[] = [];

/** An endpoint with one agent of one worker, whose scratch directory the function lists. */
async function endpointWith(name: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const endpoint = await runFerryJson<EndpointRecord>([
    "endpoint",
    "register",
    `${name}-${suffix}`,
  ]);
  const scratchDir = await mkdtemp(join(tmpdir(), "ferry-large-scratch-"));
  // The agent holds credentials (the emulators accept any); its workers must see none.
  const env = ferryEnv({
    AWS_ACCESS_KEY_ID: `AKIALARGE${suffix.toUpperCase()}`,
    AWS_SECRET_ACCESS_KEY: `secret-${suffix}`,
    FERRY_TEST_SCRATCH: scratchDir,
    ...extraEnv,
  });
  const config = {
    workers: 1,
    heartbeatIntervalSeconds: 1,
    scratchDir,
    passEnv: ["FERRY_TEST_SCRATCH"],
  };
  agents.push(await startTestAgent(endpoint.endpointId, config, env));
  return endpoint.endpointId;
}

beforeAll(async () => {
  conn = await connectForTest();
  await runFerryJson([
    "function",
    "register",
    "test/fixtures/functions/large-echo.ts",
    "--name",
    `lecho-${suffix}`,
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop(10_000)));
  conn?.close();
});

interface Echoed {
  bytes: Uint8Array;
  aws: string[];
  staged: string[];
}

/** 24 MB through the endpoint's worker and back: the value and the result's reference. */
async function echo(executor: Executor, endpointId: string, bytes: Uint8Array) {
  const future = await executor.submit(`lecho-${suffix}`, bytes, { endpointId, topic: "big" });
  const result = await future.result;
  if (!result.ok) throw new Error(`${result.error.type}: ${result.error.message}`);
  if (!("ref" in result.value)) throw new Error("expected the result by reference");
  const value = (await executor.value(result, { keep: true })) as Echoed;
  expect(value.bytes.byteLength).toBe(BIG);
  expect(Buffer.from(value.bytes).equals(Buffer.from(bytes))).toBe(true);
  expect(value.aws).toEqual([]);
  return { result, ref: result.value.ref, value };
}

it("moves 24 MB in and out by parts and ranges, byte-identical; a corrupted result is refused", async () => {
  const endpointId = await endpointWith("large");
  const executor = executorFor(conn, {
    storePolicies: { big: { backend: "s3", thresholdBytes: 0 } },
  });
  try {
    const { result, ref, value } = await echo(
      executor,
      endpointId,
      randomFillSync(new Uint8Array(BIG)),
    );
    expect(ref).toMatchObject({ store: "s3", codec: "msgpack" });
    expect(ref.size).toBeGreaterThan(BIG);
    // Read through the presigned URL while the function ran: nothing staged on disk.
    expect(value.staged).toEqual([]);

    // The stored result with one byte changed, same size: the client refuses it.
    const bucket = conn.deployment.bucketName;
    const out = await conn.aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: ref.location }));
    const stored = await (out.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array()));
    stored[stored.length - 1] = (stored[stored.length - 1] ?? 0) ^ 0xff;
    await new Upload({
      client: conn.aws.s3,
      partSize: 8 * MIB,
      params: { Bucket: bucket, Key: ref.location, Body: stored },
    }).done();
    const error = await executor.value(result).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).message).toMatch(
      new RegExp(`${ref.location} has sha256 [0-9a-f]{64} but its reference says ${ref.sha256}`),
    );
  } finally {
    await executor.close({ closeSession: true });
  }
}, 120_000);

it("stages arguments through the agent when it uses a proxy its workers are not given", async () => {
  // HTTPS_PROXY: the local endpoints are plain HTTP, so the agent itself never uses it.
  const endpointId = await endpointWith("proxied", { HTTPS_PROXY: "http://127.0.0.1:9" });
  const executor = executorFor(conn, {
    storePolicies: { big: { backend: "s3", thresholdBytes: 0 } },
  });
  try {
    const { value } = await echo(executor, endpointId, randomFillSync(new Uint8Array(BIG)));
    expect(value.staged).toHaveLength(1);
  } finally {
    await executor.close({ closeSession: true });
  }
}, 120_000);
