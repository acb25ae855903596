import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "#core/config/index.ts";
import { type Connection, connect } from "#core/connect.ts";
import { RefusedError } from "#core/errors.ts";
import type { EndpointRecord } from "#core/protocol/index.ts";
import type { AgentProcess } from "#local/index.ts";
import { executorFor } from "#sdk/index.ts";
import { ferryEnv, runFerry, startTestAgent } from "../helpers/ferry.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const principal = (name: string) => `arn:aws:iam::000000000000:user/${name}`;
const envOf = (key: string) => ferryEnv({ AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: "x" });
const alice = { env: envOf(`alice${suffix}`), arn: principal(`alice${suffix}`) };
const bob = { env: envOf(`bob${suffix}`), arn: principal(`bob${suffix}`) };
let asAlice: Connection;
let asBob: Connection;
let endpoint: EndpointRecord;
let agent: AgentProcess | undefined;

const refusal = (what: string, owner: string, action: string) =>
  `${what} belongs to ${owner}; you are ${bob.arn}: only its owner may ${action}: ask its owner, or an operator of the deployment`;

async function refusedWith(work: Promise<unknown>, message: string): Promise<void> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RefusedError);
  expect((error as Error).message).toBe(message);
}

beforeAll(async () => {
  asAlice = await connect(loadEnv(alice.env));
  asBob = await connect(loadEnv(bob.env));
  ({ endpoint } = await asAlice.control.call("registerEndpoint", { name: `alice-${suffix}` }));
  const reg = await runFerry(
    ["function", "register", "test/fixtures/functions/echo.ts", "--name", `afn-${suffix}`],
    { env: alice.env },
  );
  expect(reg.code, reg.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await agent?.stop(10_000);
  asAlice?.close();
  asBob?.close();
});

describe("a second principal", () => {
  it("records who registered an endpoint, and refuses anyone else its deregistration", async () => {
    expect(endpoint.owner).toBe(alice.arn);
    await refusedWith(
      asBob.control.call("deregisterEndpoint", { endpointId: endpoint.endpointId }),
      refusal(`endpoint alice-${suffix} (${endpoint.endpointId})`, alice.arn, "deregister it"),
    );
    const still = await asAlice.control.call("describeEndpoint", {
      endpointId: endpoint.endpointId,
    });
    expect(still.endpoint.owner).toBe(alice.arn);
  });

  it("cannot register other code under a function name it does not own", async () => {
    const r = await runFerry(
      ["function", "register", "test/fixtures/functions/bigint.ts", "--name", `afn-${suffix}`],
      { env: bob.env },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      refusal(`function afn-${suffix}`, alice.arn, "register new code under it"),
    );
    const { function: latest } = await asBob.control.call("getFunction", { name: `afn-${suffix}` });
    expect(latest.owner).toBe(alice.arn);
    // Its owner still can.
    const own = await runFerry(
      ["function", "register", "test/fixtures/functions/bigint.ts", "--name", `afn-${suffix}`],
      { env: alice.env },
    );
    expect(own.code, own.stderr).toBe(0);
  });

  it("cannot close, reattach to, cancel the tasks of, or read the parked results of another's session", async () => {
    const executor = executorFor(asAlice);
    try {
      const session = await executor.open();
      expect(session.owner).toBe(alice.arn);
      const future = await executor.submit(
        `afn-${suffix}`,
        { i: 1 },
        {
          endpointId: endpoint.endpointId,
        },
      );
      const sessionId = session.sessionId;
      const what = `session ${sessionId}`;
      await refusedWith(
        asBob.control.call("closeSession", { sessionId }),
        refusal(what, alice.arn, "close it"),
      );
      await refusedWith(
        asBob.control.call("openSession", { sessionId }),
        refusal(what, alice.arn, "reattach to it"),
      );
      await refusedWith(
        asBob.control.call("cancelTasks", { sessionId, taskIds: [future.taskId] }),
        refusal(what, alice.arn, "cancel its tasks"),
      );
      await refusedWith(
        asBob.control.call("listParkedResults", { sessionId }),
        refusal(what, alice.arn, "read its results"),
      );
      // Bob's own session may name Alice's task: the cancellation never reaches it.
      const { session: his } = await asBob.control.call("openSession", {});
      await asBob.control.call("cancelTasks", {
        sessionId: his.sessionId,
        taskIds: [future.taskId],
      });
      agent = await startTestAgent(
        endpoint.endpointId,
        { workers: 1, heartbeatIntervalSeconds: 1 },
        alice.env,
      );
      const result = await future.result;
      expect(result.ok, JSON.stringify(result)).toBe(true);
      await asBob.control.call("closeSession", { sessionId: his.sessionId });

      // Objects by reference live in Alice's part of the store, which the client policy
      // (tmp/${aws:userid}/*) lets only her reach: her arguments and her results both.
      expect(session.ownerId).toMatch(/^AIDALOCAL/);
      const big = await executorFor(asAlice, {
        storePolicies: { default: { backend: "s3", thresholdBytes: 100 } },
      });
      try {
        const echo = await runFerry(
          ["function", "register", "test/fixtures/functions/echo.ts", "--name", `aecho-${suffix}`],
          { env: alice.env },
        );
        expect(echo.code, echo.stderr).toBe(0);
        const pad = { pad: "x".repeat(1_000) };
        const f = await big.submit(`aecho-${suffix}`, pad, { endpointId: endpoint.endpointId });
        const r = await f.result;
        const ownerId = (await big.open()).ownerId;
        if (!r.ok || !("ref" in r.value))
          throw new Error(`expected a stored result: ${JSON.stringify(r)}`);
        expect(r.value.ref.location.startsWith(`tmp/${ownerId}/`)).toBe(true);
        expect(await big.value(r)).toEqual(pad);
      } finally {
        await big.close({ closeSession: true });
      }
    } finally {
      await executor.close({ closeSession: true });
    }
  }, 120_000);
});
