import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadSiteConfig } from "#agent/config.ts";
import { ConfigError } from "#core/errors.ts";
import { newTaskId } from "#core/ids.ts";
import { type ControlAction, ControlResponse } from "#core/protocol/index.ts";
import { dispatch, type RegistrationService } from "#functions/registration/index.ts";
import {
  anyValue,
  applyMutations,
  FuzzCounter,
  fuzzRuns,
  hostileName,
  mutationsOf,
  textMutationsOf,
} from "../helpers/fuzz.ts";

const runs = fuzzRuns(500);
const configRuns = Math.max(100, Math.floor(runs / 3));
const counter = new FuzzCounter();
const dir = mkdtempSync(join(tmpdir(), "ferry-fuzz-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(counter.report("fuzz-control"));
});

/** A service that answers every action with empty data: the fuzz is about validation. */
const reached: string[] = [];
const service = new Proxy({} as RegistrationService, {
  get: (_target, action: string) => async () => {
    reached.push(action);
    return {};
  },
});

const sha = "c".repeat(64);
const validRequests: Record<ControlAction, Record<string, unknown>> = {
  registerEndpoint: { name: "cpu", endpointId: newTaskId() },
  deregisterEndpoint: { endpointId: newTaskId() },
  renameEndpoint: { endpointId: newTaskId(), name: "gpu" },
  findEndpoint: { name: "cpu" },
  describeEndpoint: { endpointId: newTaskId() },
  listEndpoints: {},
  heartbeat: {
    heartbeat: {
      endpointId: newTaskId(),
      agentId: "host-1",
      slots: { total: 4, busy: 1 },
      runningTaskIds: [newTaskId()],
      versions: { ferry: "0.1.0", node: "24" },
      host: "h",
      pid: 1,
    },
  },
  registerFunction: { name: "f", sha256: sha, spec: { kind: "shell", argv: ["echo", "{taskId}"] } },
  getFunction: { name: "f", sha256: sha },
  listFunctions: {},
  openSession: { sessionId: newTaskId() },
  closeSession: { sessionId: newTaskId() },
  cancelTasks: { sessionId: newTaskId(), taskIds: [newTaskId()] },
  listCancellations: { sessions: [{ sessionId: newTaskId(), after: "0000000000000" }] },
  parkResult: {
    reason: "QueueDoesNotExist",
    result: {
      v: 1,
      taskId: newTaskId(),
      sessionId: newTaskId(),
      topic: "default",
      attempt: 1,
      ok: false,
      error: { type: "Internal", message: "x", retriable: false },
      timings: { created: 1, sent: 1, received: 2, resultSent: 3 },
      worker: { endpointId: newTaskId(), host: "h", pid: 1 },
    },
  },
  listParkedResults: { sessionId: newTaskId() },
  createGroup: { name: "qc", members: [newTaskId()] },
  addGroupMember: { name: "qc", endpointId: newTaskId() },
  removeGroupMember: { name: "qc", endpointId: newTaskId() },
  describeGroup: { name: "qc" },
  listGroups: {},
  deleteGroup: { name: "qc" },
};
const requests = Object.entries(validRequests).map(([action, fields]) => ({
  v: 1,
  action,
  ...fields,
}));

/** The Lambda's contract: any event in, a ControlResponse out, a bad one BadRequest in one line. */
async function checkDispatch(event: unknown): Promise<void> {
  const response = ControlResponse.parse(await dispatch(service, event));
  if (!response.ok) {
    expect(response.error.type).toBe("BadRequest");
    expect(response.error.message).toMatch(/^control request: /);
    expect(response.error.message).not.toContain("\n");
  }
}

describe("fuzzed control requests through the registration dispatch", () => {
  it("every valid request reaches its action", async () => {
    for (const request of requests) {
      const response = await dispatch(service, request);
      expect(response.ok, JSON.stringify(response)).toBe(true);
    }
    expect(new Set(reached)).toEqual(new Set(Object.keys(validRequests)));
  });

  it("mutated requests: answered, or refused as BadRequest naming the field; never thrown", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...requests).chain((r) => fc.tuple(fc.constant(r), mutationsOf(r))),
        async ([request, mutations]) => {
          counter.count("control request");
          await checkDispatch(applyMutations(request, mutations));
        },
      ),
      { numRuns: runs },
    );
  });

  it("mutated text and foreign values: never thrown", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom(...requests).chain((r) => textMutationsOf(JSON.stringify(r))),
          anyValue,
        ),
        async (event) => {
          counter.count("control request text");
          await checkDispatch(event);
        },
      ),
      { numRuns: runs },
    );
  });

  it("refuses registry names that try traversal or injection, naming the field", async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileName,
        fc.constantFrom("registerEndpoint", "registerFunction", "getFunction"),
        async (name, action) => {
          counter.count("registry name");
          const request = { ...requests.find((r) => r.action === action), name };
          const response = await dispatch(service, request);
          expect(response.ok).toBe(false);
          if (!response.ok) {
            expect(response.error.type).toBe("BadRequest");
            expect(response.error.message).toMatch(/^control request: name: /);
          }
        },
      ),
      { numRuns: Math.min(runs, 500) },
    );
  });
});

describe("fuzzed site configs", () => {
  const valid = {
    workers: 4,
    allowedFunctions: ["simulate"],
    scratchDir: join(dir, "scratch"),
    visibilityTimeoutSeconds: 120,
    storePolicies: { simulate: { backend: "s3", thresholdBytes: 1_000 } },
  };

  /** Loaded, or refused with a ConfigError naming the file and field; nothing else escapes. */
  async function checkLoad(load: () => Promise<unknown>): Promise<void> {
    try {
      await load();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/site config/);
    }
  }

  it("mutated settings: loaded, or a ConfigError naming the field", async () => {
    await fc.assert(
      fc.asyncProperty(mutationsOf(valid), async (mutations) => {
        counter.count("site config");
        const input = applyMutations(valid, mutations) as Record<string, unknown>;
        await checkLoad(() => loadSiteConfig(undefined, input));
      }),
      { numRuns: configRuns },
    );
  });

  it("mutated files (JSON and YAML text): loaded, or a ConfigError", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        textMutationsOf(JSON.stringify(valid)),
        fc.constantFrom(".json", ".yaml"),
        async (text, ext) => {
          counter.count("site config file");
          const path = join(dir, `site-${n++ % 8}${ext}`);
          writeFileSync(path, text);
          await checkLoad(() => loadSiteConfig(path));
        },
      ),
      { numRuns: Math.max(50, Math.floor(configRuns / 3)) },
    );
  });
});
