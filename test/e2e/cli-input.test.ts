// Input ergonomics: every bad line of a submit reported at once (or skipped on request),
// arguments from a file or stdin, did-you-mean for functions, cancel of a finished task,
// and errors as JSON under --json.

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import type { EndpointRecord } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { connectForTest, runFerry, runFerryJson, startTestAgent } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const fn = `echoin-${suffix}`;
let conn: Connection;
let dir: string;
let live: EndpointRecord;
let idle: EndpointRecord;
let agent: AgentProcess;

beforeAll(async () => {
  conn = await connectForTest();
  dir = await mkdtemp(join(tmpdir(), "ferry-input-"));
  await runFerryJson(["function", "register", "test/fixtures/functions/echo.ts", "--name", fn]);
  live = await runFerryJson<EndpointRecord>(["endpoint", "register", `live-${suffix}`]);
  idle = await runFerryJson<EndpointRecord>(["endpoint", "register", `idle-${suffix}`]);
  agent = await startTestAgent(live.endpointId, { workers: 2, heartbeatIntervalSeconds: 1 });
}, 120_000);

afterAll(async () => {
  await agent?.stop(10_000);
  conn?.close();
});

const mixed = (endpoint: string) =>
  [
    JSON.stringify({ args: { n: 1 } }),
    "{not json",
    JSON.stringify({ args: { n: 3 } }),
    JSON.stringify({ args: { n: 4 }, colour: "red" }),
    JSON.stringify({ args: { n: 5 }, function: "echoinn" }),
    JSON.stringify({ args: { n: 6 }, endpoint: `nowhere-${suffix}` }),
    JSON.stringify({ args: { n: 7 }, endpoint }),
  ].join("\n");

describe("ferry submit", () => {
  it("reports every bad line with its number and sends nothing", async () => {
    const file = join(dir, "mixed.jsonl");
    await writeFile(file, `${mixed(idle.endpointId)}\n`);
    const r = await runFerry(["submit", file, "-f", fn, "-e", idle.endpointId]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toBe("ferry: line 2: not valid JSON: give one JSON object per line");
    expect(lines[1]).toMatch(/^ferry: line 4: .*colour/);
    expect(lines[2]).toMatch(/^ferry: line 5: function echoinn is not registered/);
    expect(lines[3]).toMatch(new RegExp(`^ferry: line 6: no endpoint named nowhere-${suffix}`));
    expect(lines.at(-1)).toContain(
      "4 of 7 line(s) are not valid (lines 2, 4, 5, 6); nothing was sent: fix them, or pass --skip-invalid",
    );
    const attrs = await conn.aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: idle.queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages"],
      }),
    );
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe("0");
  });

  it("with --skip-invalid runs the valid lines and prints the others as failed lines", async () => {
    const file = join(dir, "mixed-live.jsonl");
    await writeFile(file, `${mixed(live.endpointId)}\n`);
    const r = await runFerry(["submit", file, "-f", fn, "-e", live.endpointId, "--skip-invalid"]);
    expect(r.code).toBe(1);
    const out = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { line: number; ok: boolean; error?: { type: string } });
    const byLine = new Map(out.map((o) => [o.line, o]));
    expect([...byLine.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const ok of [1, 3, 7]) expect(byLine.get(ok)?.ok).toBe(true);
    for (const bad of [2, 4, 5, 6]) expect(byLine.get(bad)?.error?.type).toBe("InvalidLine");
    expect(r.stderr).toContain("3 succeeded, 0 failed, 4 invalid line(s) skipped");
  });

  it("documents its line keys in --help", async () => {
    const r = await runFerry(["submit", "--help"]);
    for (const key of ["function", "args", "endpoint", "topic", "walltimeSeconds", "maxAttempts"])
      expect(r.stdout).toContain(`"${key}"`);
  });
});

describe("ferry run and cancel", () => {
  it("takes arguments from a file (a 3 MB one included) and from stdin", async () => {
    const big = { pad: "x".repeat(3_000_000) };
    const file = join(dir, "big.json");
    await writeFile(file, JSON.stringify(big));
    const fromFile = await runFerry(["run", fn, "-e", live.endpointId, "--args-file", file]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual(big);
    const fromStdin = await runFerry(["run", fn, "-e", live.endpointId, "--args", "-"], {
      input: '{"piped": true}',
    });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toEqual({ piped: true });
  });

  it("a misspelled function name gets the closest registered names", async () => {
    const r = await runFerry(["run", `echoim-${suffix}`, "-e", live.endpointId]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`function echoim-${suffix} is not registered: did you mean ${fn}?`);
  });

  it("cancel says which tasks had already ended", async () => {
    const file = join(dir, "one.jsonl");
    await writeFile(file, `${JSON.stringify({ args: { n: 1 } })}\n`);
    const sub = await runFerry(["submit", file, "-f", fn, "-e", live.endpointId, "--keep-session"]);
    const { taskId } = JSON.parse(sub.stdout) as { taskId: string };
    const r = await runFerry(["cancel", taskId]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`task ${taskId} had already ended (done): not cancelled`);
  });

  it("with --json, an error is a JSON line too", async () => {
    const r = await runFerry(["endpoint", "status", `nowhere-${suffix}`, "--json"]);
    expect(r.code).toBe(3);
    const { error } = JSON.parse(r.stderr) as {
      error: { type: string; message: string; exitCode: number };
    };
    expect(error).toMatchObject({
      type: "NotFoundError",
      message: `no endpoint named nowhere-${suffix}`,
      exitCode: 3,
    });
  });
});
