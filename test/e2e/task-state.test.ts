// Task and endpoint state that is true within a second: a running task shows as running
// before the next 30 s heartbeat, a stopped agent's endpoint is offline at once, and a task
// sent to an endpoint with no live agent says so at once (and is kept).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connection } from "#core/connect.ts";
import type { EndpointRecord, EndpointView } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { connectForTest, runFerry, runFerryJson, startTestAgent } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
let conn: Connection;
let dir: string;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  conn = await connectForTest();
  dir = await mkdtemp(join(tmpdir(), "ferry-state-"));
  await runFerryJson([
    "function",
    "register",
    "test/fixtures/functions/sleep.ts",
    "--name",
    `zz-${suffix}`,
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop(10_000)));
  conn?.close();
});

async function startAgent(endpointId: string): Promise<AgentProcess> {
  // The default 30 s heartbeat: anything faster below comes from the agent reporting at once.
  const agent = await startTestAgent(endpointId, { workers: 1 });
  agents.push(agent);
  return agent;
}

it("ferry run to an endpoint without a live agent warns at once, and the task is kept", async () => {
  const e = await runFerryJson<EndpointRecord>(["endpoint", "register", `noagent-${suffix}`]);
  const r = await runFerry([
    "run",
    `zz-${suffix}`,
    "-e",
    e.endpointId,
    "--args",
    '{"ms": 1}',
    "--timeout",
    "1",
  ]);
  expect(r.code).toBe(124);
  expect(r.stderr).toContain(
    `ferry: warning: endpoint noagent-${suffix} has no live agent (offline, no agent has ever reported)`,
  );
  expect(r.stderr).toMatch(
    /the task stays queued: collect its result later with `ferry results --session /,
  );
});

it("a running task shows as running long before the next heartbeat; a stopped agent's endpoint is offline at once", async () => {
  const e = await runFerryJson<EndpointRecord>(["endpoint", "register", `state-${suffix}`]);
  const agent = await startAgent(e.endpointId);
  const file = join(dir, "sleep.jsonl");
  await writeFile(file, `${JSON.stringify({ args: { ms: 8_000 } })}\n`);
  const submit = runFerry(["submit", file, "-f", `zz-${suffix}`, "-e", e.endpointId]);
  let seen = "";
  for (let i = 0; i < 60 && seen !== "running"; i++) {
    const tasks = await runFerryJson<{ tasks: Array<{ state: string }> }>(["tasks"]).catch(() => ({
      tasks: [],
    }));
    seen = tasks.tasks[0]?.state ?? "";
    if (seen !== "running") await new Promise((r) => setTimeout(r, 200));
  }
  expect(seen).toBe("running");
  // Seen while the 8 s task ran, with a 30 s heartbeat interval: the start was reported.
  const done = await submit;
  expect(done.code, done.stderr).toBe(0);

  await agent.stop(10_000);
  const view = await runFerryJson<EndpointView>(["endpoint", "status", e.endpointId]);
  expect(view.status).toBe("offline");
  expect(view.agents[0]?.state).toBe("stopped");
}, 120_000);
