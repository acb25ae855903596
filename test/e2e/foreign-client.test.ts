// docs/protocol.md's complete example, run as written: a client with only the AWS SDK, against
// the suite's deployment and a real agent. If the page and the protocol part ways, this fails.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import { ConflictError } from "#core/errors.ts";
import type { EndpointRecord, FunctionRecord } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { connectForTest, ferryEnv, runFerryJson, startTestAgent } from "../helpers/ferry.ts";

const DOC = fileURLToPath(new URL("../../docs/protocol.md", import.meta.url));
/**
 * Inside the repository, so that the example's bare `@aws-sdk/*` imports resolve by walking up
 * to its node_modules: ESM resolution ignores NODE_PATH. Under node_modules/ it is gitignored,
 * and Node runs a plain `.mjs` there as it would anywhere (only type stripping skips it).
 */
const EXAMPLES_DIR = fileURLToPath(
  new URL("../../node_modules/.cache/ferry-doc-examples/", import.meta.url),
);
const TAG = "js foreign-client";

/** The body of the one fenced block whose info string is exactly `tag`. */
function extractBlock(markdown: string, tag: string): string {
  const blocks: string[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== `\`\`\`${tag}`) continue;
    const end = lines.findIndex((line, j) => j > i && line.trim() === "```");
    if (end === -1) throw new Error(`the \`\`\`${tag} block at line ${i + 1} is not closed`);
    blocks.push(lines.slice(i + 1, end).join("\n"));
    i = end;
  }
  if (blocks.length !== 1)
    throw new Error(`expected one \`\`\`${tag} block, found ${blocks.length}`);
  return `${blocks[0]}\n`;
}

/** Every module the source imports: static, side-effect, re-export and dynamic forms. */
function importedModules(source: string): string[] {
  const patterns = [
    /^\s*import\s[^;]*?\sfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /^\s*export\s[^;]*?\sfrom\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1] ?? ""));
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runNode(file: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const suffix = Math.random().toString(36).slice(2, 8);
let source: string;
let conn: Connection;
let siteDir: string;
let examplePath: string;
let endpoint: EndpointRecord;
let fn: FunctionRecord;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  source = extractBlock(await readFile(DOC, "utf8"), TAG);
  await mkdir(EXAMPLES_DIR, { recursive: true });
  examplePath = join(EXAMPLES_DIR, `foreign-client-${randomUUID()}.mjs`);
  await writeFile(examplePath, source);
  conn = await connectForTest();
  siteDir = await mkdtemp(join(tmpdir(), "ferry-foreign-"));
  endpoint = await runFerryJson<EndpointRecord>(["endpoint", "register", `foreign-${suffix}`]);
  fn = await runFerryJson<FunctionRecord>([
    "function",
    "register",
    "test/fixtures/functions/echo.ts",
    "--name",
    `foreign-echo-${suffix}`,
  ]);
  agent = await startTestAgent(endpoint.endpointId, { workers: 2, heartbeatIntervalSeconds: 1 });
}, 120_000);

afterAll(async () => {
  await agent?.stop(10_000);
  conn?.close();
  if (examplePath) await rm(examplePath, { force: true });
  if (siteDir) await rm(siteDir, { recursive: true, force: true });
});

describe("docs/protocol.md's foreign client", () => {
  it("imports nothing but the AWS SDK and Node's builtins", () => {
    const modules = importedModules(source);
    expect(modules).toContain("@aws-sdk/client-lambda");
    expect(modules).toContain("@aws-sdk/client-sqs");
    // The AWS SDK and its own SigV4 signer (what the SDK signs every request with), nothing else.
    for (const m of modules)
      expect(m).toMatch(/^(@aws-sdk\/[a-z0-9-]+|@smithy\/signature-v4|node:[a-z/_]+)$/);
  });

  it("runs tasks on a real agent, gets each result once, and closes its session", async () => {
    const run = await runNode(
      examplePath,
      ferryEnv({
        FERRY_ENDPOINT_ID: endpoint.endpointId,
        FERRY_FUNCTION: fn.name,
        FERRY_TASKS: "5",
      }),
      150_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(5);
    const results = lines.map(
      (line) => JSON.parse(line) as { taskId: string; ok: boolean; value: unknown },
    );
    for (const r of results) {
      expect(r.ok).toBe(true);
      expect(r.taskId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    }
    expect(new Set(results.map((r) => r.taskId)).size).toBe(5);
    const values = results.map((r) => r.value);
    for (let i = 0; i < 5; i++) {
      expect(
        values.filter((v) => JSON.stringify(v) === JSON.stringify({ inline: { n: i } })),
      ).toHaveLength(1);
    }

    const sessionId = /opened session ([0-9a-f-]{36})/.exec(run.stderr)?.[1];
    expect(sessionId, run.stderr).toBeDefined();
    // The registry answers Conflict for a closed session (and would reopen an open one).
    await expect(
      conn.control.call("openSession", { sessionId: sessionId ?? "" }),
    ).rejects.toBeInstanceOf(ConflictError);
  }, 180_000);
});
