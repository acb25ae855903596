// Endpoint names are unique per deployment: registering one again returns it, a misspelled
// one gets a suggestion, and endpoints can be renamed and deregistered (not with tasks queued,
// unless forced).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import type { EndpointRecord } from "#core/protocol/index.ts";
import { runFerry, runFerryJson } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ferry-names-"));
  await runFerryJson([
    "function",
    "register",
    "test/fixtures/functions/echo.ts",
    "--name",
    `nm-${suffix}`,
  ]);
}, 60_000);

it("registering a name twice returns the same endpoint (a set-up script may run twice)", async () => {
  const first = await runFerryJson<EndpointRecord>(["endpoint", "register", `names-${suffix}`]);
  const again = await runFerryJson<EndpointRecord>(["endpoint", "register", `names-${suffix}`]);
  expect(again.endpointId).toBe(first.endpointId);
  const list = await runFerryJson<Array<{ endpoint: EndpointRecord }>>(["endpoint", "list"]);
  expect(list.filter((v) => v.endpoint.name === `names-${suffix}`)).toHaveLength(1);
});

it("a misspelled endpoint name gets a one-line error with the closest names", async () => {
  await runFerryJson<EndpointRecord>(["endpoint", "register", `names-${suffix}`]);
  const r = await runFerry(["endpoint", "status", `namse-${suffix}`]);
  expect(r.code).toBe(3);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toContain(`no endpoint named namse-${suffix}: did you mean names-${suffix}?`);
});

it("renames an endpoint, and refuses a name another endpoint has", async () => {
  const a = await runFerryJson<EndpointRecord>(["endpoint", "register", `ren-a-${suffix}`]);
  await runFerryJson<EndpointRecord>(["endpoint", "register", `ren-b-${suffix}`]);
  const renamed = await runFerryJson<EndpointRecord>([
    "endpoint",
    "rename",
    `ren-a-${suffix}`,
    `ren-c-${suffix}`,
  ]);
  expect(renamed).toMatchObject({ endpointId: a.endpointId, name: `ren-c-${suffix}` });
  const status = await runFerryJson<{ endpoint: EndpointRecord }>([
    "endpoint",
    "status",
    `ren-c-${suffix}`,
  ]);
  expect(status.endpoint.endpointId).toBe(a.endpointId);
  expect((await runFerry(["endpoint", "status", `ren-a-${suffix}`])).code).toBe(3);
  const taken = await runFerry(["endpoint", "rename", `ren-c-${suffix}`, `ren-b-${suffix}`]);
  expect(taken.code).toBe(2);
  expect(taken.stderr).toMatch(new RegExp(`the name ren-b-${suffix} is taken by endpoint `));
});

it("refuses to deregister an endpoint with queued tasks unless forced", async () => {
  const e = await runFerryJson<EndpointRecord>(["endpoint", "register", `dereg-${suffix}`]);
  const file = join(dir, "one.jsonl");
  await writeFile(file, `${JSON.stringify({ args: { n: 1 } })}\n`);
  // No agent: the task stays queued.
  const sent = await runFerry([
    "submit",
    file,
    "-f",
    `nm-${suffix}`,
    "-e",
    e.endpointId,
    "--timeout",
    "1",
  ]);
  const refused = await runFerry(["endpoint", "deregister", `dereg-${suffix}`]);
  expect(refused.code, `submit: ${sent.code} ${sent.stderr}\nderegister: ${refused.stderr}`).toBe(
    2,
  );
  expect(refused.stderr).toContain(`endpoint dereg-${suffix} has 1 task(s) in its queue`);
  const forced = await runFerry(["endpoint", "deregister", `dereg-${suffix}`, "--force"]);
  expect(forced.code, forced.stderr).toBe(0);
  expect(forced.stdout).toContain("1 queued task(s) deleted with its queue");
  expect((await runFerry(["endpoint", "status", e.endpointId])).code).toBe(3);
});
