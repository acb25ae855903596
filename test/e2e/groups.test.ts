// Endpoint groups through the real path: the CLI, the local deployment's registration handler,
// real agents as child processes. A task to group:<name> runs on a member; a member whose
// allow-list refuses it passes it on; a stopped member does not stop the group; a non-owner
// cannot change a group.
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import type { EndpointRecord, GroupRecord, ResultMessage } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { ferryEnv, runFerry, runFerryJson, startTestAgent } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const group = `qc-${suffix}`;
const fn = `gecho-${suffix}`;
const envOf = (key: string) => ferryEnv({ AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: "x" });
const alice = envOf(`galice${suffix}`);
const bob = envOf(`gbob${suffix}`);
let asAlice: Connection;
let a: EndpointRecord;
let b: EndpointRecord;
const agents: AgentProcess[] = [];

const agentFor = async (endpoint: EndpointRecord, allowedFunctions?: string[]) => {
  const agent = await startTestAgent(
    endpoint.endpointId,
    { workers: 1, heartbeatIntervalSeconds: 1, ...(allowedFunctions ? { allowedFunctions } : {}) },
    alice,
  );
  agents.push(agent);
  return agent;
};

/** One task to the group through `ferry run`: its result, with the member that ran it. */
async function runOnGroup(i: number): Promise<ResultMessage> {
  const r = await runFerry(
    ["run", fn, "-e", `group:${group}`, "--args", JSON.stringify({ i }), "--json"],
    { env: alice, timeoutMs: 60_000 },
  );
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ResultMessage;
}

beforeAll(async () => {
  asAlice = await connect(loadEnv(alice));
  a = await runFerryJson<EndpointRecord>(["endpoint", "register", `ga-${suffix}`], alice);
  b = await runFerryJson<EndpointRecord>(["endpoint", "register", `gb-${suffix}`], alice);
  const reg = await runFerry(
    ["function", "register", "test/fixtures/functions/echo.ts", "--name", fn],
    { env: alice },
  );
  expect(reg.code, reg.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop(10_000)));
  await asAlice?.control.call("deleteGroup", { name: group }).catch(() => undefined);
  asAlice?.close();
});

it("creates a group from the CLI, and a member that may not run a task passes it on", async () => {
  const created = await runFerryJson<GroupRecord>(
    ["group", "create", group, a.name, b.name],
    alice,
  );
  expect(created.members).toEqual([a.endpointId, b.endpointId]);
  const listed = await runFerry(["group", "list"], { env: alice });
  expect(listed.stdout).toMatch(
    new RegExp(`${group}\\s+${created.groupId}\\s+${a.name}, ${b.name}`),
  );
  // a's site allows nothing: every task must end up on b, none refused.
  const refusing = await agentFor(a, []);
  const serving = await agentFor(b);
  for (let i = 0; i < 4; i++) {
    const result = await runOnGroup(i);
    expect(result.ok).toBe(true);
    expect(result.worker.endpointId).toBe(b.endpointId);
  }
  await Promise.all([refusing.stop(10_000), serving.stop(10_000)]);
}, 240_000);

it("keeps serving when one member is stopped, and stops using a member once removed", async () => {
  const first = await agentFor(a);
  const second = await agentFor(b);
  first.kill();
  for (let i = 0; i < 3; i++) {
    const result = await runOnGroup(10 + i);
    expect(result.ok).toBe(true);
    expect(result.worker.endpointId).toBe(b.endpointId);
  }
  await agentFor(a);
  const removed = await runFerryJson<GroupRecord>(["group", "remove", group, b.name], alice);
  expect(removed.members).toEqual([a.endpointId]);
  // b's agent hears of it at its next heartbeat (1 s): from then on only a serves the group.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  for (let i = 0; i < 3; i++) {
    expect((await runOnGroup(20 + i)).worker.endpointId).toBe(a.endpointId);
  }
  await second.stop(10_000);
}, 240_000);

it("refuses a non-owner's change with a one-line error that says who may", async () => {
  const own = await runFerryJson<EndpointRecord>(["endpoint", "register", `gbob-${suffix}`], bob);
  const add = await runFerry(["group", "add", group, own.endpointId], { env: bob });
  expect(add.code).not.toBe(0);
  expect(add.stderr).toContain(`group ${group} belongs to`);
  expect(add.stderr).toContain("only its owner may add members");
  const enlist = await runFerry(["group", "create", `bobs-${suffix}`, a.endpointId], { env: bob });
  expect(enlist.code).not.toBe(0);
  expect(enlist.stderr).toContain("only its owner may put it in a group");
  const { group: still } = await asAlice.control.call("describeGroup", { name: group });
  expect(still.members).toEqual([a.endpointId]);
}, 120_000);
