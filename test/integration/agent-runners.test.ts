import { randomFillSync } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EndpointAgent, type SiteConfigInput } from "#agent/index.ts";
import { newSessionId } from "#core/ids.ts";
import { bundleKey, queueNames } from "#core/names.ts";
import { type FunctionRef, ResultMessage } from "#core/protocol/index.ts";
import {
  createStores,
  decodePayload,
  encodePayload,
  type StorePolicies,
} from "#core/store/index.ts";
import { type Harness, startHarness, waitUntil } from "./agent-harness.ts";

let h: Harness;
const stores = () => createStores({ s3: { client: h.aws.s3, bucket: h.bucket } });
const byRef: StorePolicies = {
  train: { backend: "s3", thresholdBytes: 0 },
  t: { backend: "s3", thresholdBytes: 0 },
};
/**
 * A fresh emulator and registry for the enclosing describe (or, with "each", for each of its
 * tests): an agent closed mid-poll may leave a message taken by its cut-off poll, and what one
 * suite leaves behind never meets another, in whatever order they run.
 */
function useHarness(scope: "suite" | "each" = "suite"): void {
  const [before, after] = scope === "suite" ? [beforeAll, afterAll] : [beforeEach, afterEach];
  before(async () => {
    h = await startHarness();
    h.results.start();
  });
  after(async () => {
    await h?.close();
  });
}

const POLL_WAIT_SECONDS = 1;

async function withAgent(overrides: Partial<SiteConfigInput> = {}) {
  const agent = new EndpointAgent({
    endpointId: h.endpointId,
    config: await h.config({ pollWaitSeconds: POLL_WAIT_SECONDS, ...overrides }),
    deps: h.deps(),
  });
  await agent.start();
  return agent;
}

async function closeAgent(agent: EndpointAgent | undefined) {
  await agent?.close();
}

const inline = <T>(r: { ok: boolean }) => (r as unknown as { value: { inline: T } }).value.inline;

describe("node and shell functions", () => {
  useHarness();
  let agent: EndpointAgent;
  let sleepy: FunctionRef;
  let crashes: FunctionRef;
  let add: FunctionRef;
  beforeAll(async () => {
    agent = await withAgent({ workers: 3 });
    add = await h.registerNode("add", "export default (a: { x: number }) => a.x + 1;");
    sleepy = await h.registerNode(
      "sleepy",
      `export default async (a: { ms: number }) => {
         console.error("sleeping", a.ms);
         await new Promise((r) => setTimeout(r, a.ms));
         return "awake";
       };`,
    );
    crashes = await h.registerNode(
      "crashes",
      `export default () => { console.error("about to die"); process.exit(3); };`,
    );
  });
  afterAll(() => closeAgent(agent));

  it("runs a shell function without a shell, JSON in and out, in a scratch dir removed after", async () => {
    const script = join(h.dir, "shell-fn.mjs");
    await writeFile(
      script,
      `import { readFileSync, writeFileSync } from "node:fs";
       const { args } = JSON.parse(readFileSync(0, "utf8"));
       writeFileSync("scratch.txt", "x");
       console.error("warning: just testing");
       console.log("progress 50%");
       console.log(JSON.stringify({ product: args.a * args.b, cwd: process.cwd(), arg: process.argv[2] }));`,
    );
    const fn = await h.registerShell("multiply", [process.execPath, script, "{taskId}"]);
    const taskId = await h.sendTask(fn, { a: 6, b: 7 });
    const result = await h.results.waitFor(taskId);
    expect(result.ok).toBe(true);
    const value = inline<{ product: number; cwd: string; arg: string }>(result);
    expect(value.product).toBe(42);
    expect(value.arg).toBe(taskId);
    expect(value.cwd).toContain(join(h.dir, "scratch"));
    expect(existsSync(value.cwd)).toBe(false);
    expect(result.stderrTail).toContain("warning: just testing");
    expect(result.stdoutTail).toContain("progress 50%");
  });

  it("reports a failing shell command with its exit code and stderr", async () => {
    const fn = await h.registerShell("false", [
      process.execPath,
      "-e",
      "console.error('no convergence'); process.exit(2)",
    ]);
    const result = await h.results.waitFor(await h.sendTask(fn, {}));
    expect(!result.ok && result.error).toMatchObject({ type: "FunctionError" });
    expect(!result.ok && result.error.message).toContain("exited with code 2");
    expect(result.stderrTail).toContain("no convergence");
    const missing = await h.registerShell("missing", ["/no/such/program"]);
    const r2 = await h.results.waitFor(await h.sendTask(missing, {}));
    expect(!r2.ok && r2.error.message).toContain("cannot start /no/such/program");
  });

  it("kills a node task over its walltime and says so; the function still runs after", async () => {
    const taskId = await h.sendTask(sleepy, { ms: 60_000 }, { walltimeSeconds: 1 });
    const result = await h.results.waitFor(taskId, 30_000);
    expect(!result.ok && result.error.type).toBe("Timeout");
    // Killed, not finished: it ended long before its own 60 s sleep could have.
    expect((result.timings.ended ?? Infinity) - (result.timings.started ?? 0)).toBeLessThan(60_000);
    expect(!result.ok && result.error.message).toContain("walltime of 1 s");
    expect(result.stderrTail).toContain("sleeping 60000");
    const again = await h.results.waitFor(await h.sendTask(sleepy, { ms: 10 }));
    expect(inline(again)).toBe("awake");
  });

  it("kills a shell task that ignores SIGTERM with SIGKILL after the grace", async () => {
    const fn = await h.registerShell("stubborn", [
      process.execPath,
      "-e",
      "process.on('SIGTERM', () => console.error('ignoring TERM')); setInterval(() => {}, 1000)",
    ]);
    const t0 = Date.now();
    const result = await h.results.waitFor(await h.sendTask(fn, {}, { walltimeSeconds: 1 }));
    expect(!result.ok && result.error.type).toBe("Timeout");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900);
    expect(result.stderrTail).toContain("ignoring TERM");
  });

  it("reports a crashed worker as WorkerCrashed and replaces it", async () => {
    const result = await h.results.waitFor(await h.sendTask(crashes, {}));
    expect(!result.ok && result.error.type).toBe("WorkerCrashed");
    expect(!result.ok && result.error.message).toContain("exited with code 3");
    expect(result.stderrTail).toContain("about to die");
    const after = await h.results.waitFor(await h.sendTask(add, { x: 1 }));
    expect(inline(after)).toBe(2);
    expect(agent.state).toBe("running");
  });

  it("sends a result larger than a queue message by reference through S3", async () => {
    const big = await h.registerNode("big", "export default () => 'x'.repeat(2_000_000);");
    const result = await h.results.waitFor(await h.sendTask(big, {}));
    if (!result.ok) throw new Error(result.error.message);
    expect("ref" in result.value && result.value.ref).toMatchObject({ store: "s3", codec: "json" });
    expect(((await decodePayload(result.value, stores())) as string).length).toBe(2_000_000);
    expect(result.timings.storeMs).toBeGreaterThan(0);
  });

  it("takes arguments by reference (msgpack typed arrays too) and deletes temporary ones", async () => {
    const norm = await h.registerNode(
      "norm",
      `export default (a: { v: Float64Array; scale: number }) => {
         const out = new Float32Array(a.v.length);
         a.v.forEach((x, i) => { out[i] = x * a.scale; });
         return { kind: a.v.constructor.name, out };
       };`,
    );
    const encoded = await encodePayload(
      { v: new Float64Array([1, 2, 3]), scale: 2 },
      { topic: "train", policies: byRef, stores: stores(), temporary: true },
    );
    if (!("ref" in encoded.payload)) throw new Error("expected a reference");
    expect(encoded.payload.ref.codec).toBe("msgpack");
    const taskId = await h.sendTask(norm, null, { args: encoded.payload, topic: "train" });
    const result = await h.results.waitFor(taskId);
    if (!result.ok) throw new Error(result.error.message);
    // Not JSON: the result goes by reference with msgpack, whatever its size.
    const value = (await decodePayload(result.value, stores())) as { kind: string; out: unknown };
    expect(value.kind).toBe("Float64Array");
    expect(value.out).toEqual(new Float32Array([2, 4, 6]));
    expect(result.timings.inputsResolved).toBeGreaterThanOrEqual(result.timings.received);
    // Deleted once the result is delivered (just after it is sent).
    const payload = encoded.payload;
    await waitUntil(
      () =>
        decodePayload(payload, stores()).then(
          () => false,
          (e: Error) => /does not exist/.test(e.message),
        ),
      5_000,
      "temporary arguments deleted",
    );
  });

  it("refuses corrupted or non-JSON arguments with InputError", async () => {
    const encoded = await encodePayload("hello", { topic: "t", policies: byRef, stores: stores() });
    if (!("ref" in encoded.payload)) throw new Error("expected a reference");
    const forged = { ref: { ...encoded.payload.ref, sha256: "a".repeat(64) } };
    const result = await h.results.waitFor(await h.sendTask(add, null, { args: forged }));
    expect(!result.ok && result.error.type).toBe("InputError");
    expect(!result.ok && result.error.message).toContain("sha256");

    const typed = await encodePayload(new Uint8Array([1]), {
      topic: "t",
      policies: byRef,
      stores: stores(),
    });
    const echo = await h.registerShell("echo", [
      process.execPath,
      "-e",
      "process.stdin.pipe(process.stdout)",
    ]);
    const r2 = await h.results.waitFor(await h.sendTask(echo, null, { args: typed.payload }));
    expect(!r2.ok && r2.error.message).toContain("shell function takes JSON arguments");
  });
});

describe("policy", () => {
  useHarness();
  let agent: EndpointAgent;
  let add: FunctionRef;
  beforeAll(async () => {
    agent = await withAgent({
      workers: 1,
      allowedFunctions: ["add", "forged", "huge"],
      storePolicies: { "*": { backend: "none" } },
    });
    add = await h.registerNode("add", "export default (a: { x: number }) => a.x + 1;");
  });
  afterAll(() => closeAgent(agent));

  it("refuses a function that is not on the allow-list", async () => {
    const other = await h.registerNode("other", "export default () => 1;");
    const result = await h.results.waitFor(await h.sendTask(other, {}));
    expect(!result.ok && result.error.type).toBe("Refused");
    expect(!result.ok && result.error.message).toContain("allowedFunctions");
    const ok = await h.results.waitFor(await h.sendTask(add, { x: 2 }));
    expect(inline(ok)).toBe(3);
  });

  it("refuses a bundle whose content does not match the registered hash", async () => {
    const sha256 = "f".repeat(64);
    await h.forgeFunction({
      v: 1,
      name: "forged",
      sha256,
      // The bytes stored under add's key hash to add's sha256, not to this one.
      spec: { kind: "node", bundleKey: bundleKey(add.sha256) },
      registeredAt: Date.now(),
    });
    const result = await h.results.waitFor(await h.sendTask({ name: "forged", sha256 }, {}));
    expect(!result.ok && result.error.type).toBe("Refused");
    expect(!result.ok && result.error.message).toContain("sha256");
  });

  it("fails a result too large for a message when its topic has no store", async () => {
    const huge = await h.registerNode("huge", "export default () => 'x'.repeat(2_000_000);");
    const result = await h.results.waitFor(await h.sendTask(huge, {}));
    expect(!result.ok && result.error.type).toBe("Internal");
    expect(!result.ok && result.error.message).toMatch(
      /over the \d+ bytes an SQS message can carry/,
    );
  });

  it("refuses a task asking for a GPU on an endpoint without one", async () => {
    const taskId = await h.sendTask(add, { x: 1 }, { resources: { cpus: 1, gpus: 1 } });
    const result = await h.results.waitFor(taskId);
    expect(!result.ok && result.error.message).toContain("has none");
  });
});

describe("GPUs", () => {
  useHarness();
  let agent: EndpointAgent;
  beforeAll(async () => {
    agent = await withAgent({ gpuIds: ["0", "1"] });
  });
  afterAll(() => closeAgent(agent));

  it("runs one task per GPU, each pinned with CUDA_VISIBLE_DEVICES", async () => {
    const fn = await h.registerNode(
      "gpu-probe",
      `export default async () => {
         const start = Date.now();
         await new Promise((r) => setTimeout(r, 300));
         return { gpu: process.env.CUDA_VISIBLE_DEVICES, start, end: Date.now() };
       };`,
    );
    const shell = await h.registerShell("gpu-shell", [
      process.execPath,
      "-e",
      "const s = Date.now(); setTimeout(() => console.log(JSON.stringify({ gpu: process.env.CUDA_VISIBLE_DEVICES, start: s, end: Date.now() })), 300)",
    ]);
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.sendTask(i % 2 ? shell : fn, {}, { resources: { cpus: 1, gpus: 1 } }),
      ),
    );
    const results = await Promise.all(ids.map((id) => h.results.waitFor(id)));
    const runs = results.map((r) => ({
      ...inline<{ gpu: string; start: number; end: number }>(r),
      reported: r.worker.gpu,
    }));
    for (const run of runs) expect(run.gpu).toBe(run.reported);
    expect(new Set(runs.map((r) => r.gpu))).toEqual(new Set(["0", "1"]));
    for (const gpu of ["0", "1"]) {
      const mine = runs.filter((r) => r.gpu === gpu).sort((a, b) => a.start - b.start);
      for (let i = 1; i < mine.length; i++) {
        expect(mine[i]?.start).toBeGreaterThanOrEqual(mine[i - 1]?.end ?? 0);
      }
    }
  });
});

describe("slot accounting", () => {
  useHarness();
  it("neither spins when idle nor receives when every slot is busy (no prefetch)", async () => {
    const deps = h.deps();
    let receives = 0;
    const sqs = deps.sqs;
    const counting = new Proxy(sqs, {
      get(target, prop, receiver) {
        if (prop !== "send") return Reflect.get(target, prop, receiver);
        return (command: { constructor: { name: string } }, options?: unknown) => {
          if (command.constructor.name === "ReceiveMessageCommand") receives++;
          return target.send(command as never, options as never);
        };
      },
    });
    const agent = new EndpointAgent({
      endpointId: h.endpointId,
      config: await h.config({ workers: 1, pollWaitSeconds: POLL_WAIT_SECONDS, prefetchTasks: 0 }),
      deps: { ...deps, sqs: counting },
    });
    await agent.start();
    // The agent's own heartbeats (one a second) prove time passed, without a fixed sleep.
    const beatsAfter = async (n: number) => {
      const from = h.heartbeats.length;
      await waitUntil(() => h.heartbeats.length >= from + n, 20_000, `${n} heartbeats`);
    };
    try {
      // Idle: about one long poll per pollWaitSeconds (1 s), not a spin.
      const idleFrom = receives;
      await beatsAfter(3);
      expect(receives - idleFrom).toBeLessThanOrEqual(6);
      // Full: the one slot is held until the gate opens; no receive happens meanwhile.
      const gated = await h.registerNode(
        "gated-one",
        `import { randomFillSync } from "node:crypto";
import { existsSync } from "node:fs";
         export default async (a: { gate: string }) => {
           while (!existsSync(a.gate)) await new Promise((r) => setTimeout(r, 50));
           return "done";
         };`,
      );
      const gate = join(h.dir, "gate-slots");
      const taskId = await h.sendTask(gated, { gate });
      await waitUntil(() => agent.runningTaskIds.includes(taskId), 10_000, "task running");
      // A receive in flight when the slot filled may still return; count from after it.
      await beatsAfter(1);
      const fullFrom = receives;
      await beatsAfter(2);
      expect(receives - fullFrom).toBe(0);
      await writeFile(gate, "");
      expect((await h.results.waitFor(taskId)).ok).toBe(true);
    } finally {
      await closeAgent(agent);
    }
  });
});

describe("large values between the agent and its node workers", () => {
  useHarness();
  let agent: EndpointAgent;
  let reverse: FunctionRef;
  let fileDir: string;
  let scratchDir: string;
  const policies = (dir: string): StorePolicies => ({
    "big-file": { backend: "file", thresholdBytes: 0, fileDir: dir },
    "big-s3": { backend: "s3", thresholdBytes: 0 },
  });
  beforeAll(async () => {
    fileDir = join(h.dir, "shared-store");
    scratchDir = join(h.dir, "large-scratch");
    agent = await withAgent({
      workers: 2,
      scratchDir,
      storeFileDir: fileDir,
      storePolicies: policies(fileDir),
    });
    reverse = await h.registerNode(
      "reverse",
      "export default (a: Uint8Array) => Uint8Array.from(a).reverse();",
    );
  });
  afterAll(() => closeAgent(agent));

  for (const backend of ["file", "s3"] as const) {
    it(`moves 8 MB of bytes in and out through the ${backend} store, staging nothing left behind`, async () => {
      const client = createStores({
        s3: { client: h.aws.s3, bucket: h.bucket },
        fileDir,
        fsync: false,
      });
      const topic = `big-${backend}`;
      const bytes = Uint8Array.from({ length: 8_000_000 }, (_, i) => (i * 7) % 251);
      const { payload } = await encodePayload(bytes, {
        topic,
        policies: policies(fileDir),
        stores: client,
        temporary: true,
      });
      const taskId = await h.sendTask(reverse, null, { args: payload, topic });
      const result = await h.results.waitFor(taskId);
      if (!result.ok) throw new Error(result.error.message);
      if (!("ref" in result.value)) throw new Error("expected the result by reference");
      // Raw bytes stay raw, in the topic's own store.
      expect(result.value.ref).toMatchObject({ store: backend, codec: "bytes", size: 8_000_000 });
      const back = (await decodePayload(result.value, client)) as Uint8Array;
      expect(back[0]).toBe(bytes[bytes.length - 1]);
      expect(back).toEqual(Uint8Array.from(bytes).reverse());
      // The worker read its arguments: the time it had them lies within the run.
      const t = result.timings;
      expect(t.inputsResolved).toBeGreaterThanOrEqual(t.received);
      expect(t.inputsResolved).toBeLessThanOrEqual(t.ended ?? 0);
      await waitUntil(
        async () => (await readdir(scratchDir)).every((d) => !d.includes("-data-")),
        5_000,
        "the task's staging directory removed",
      );
    });
  }
  it("refuses 20 MB of arguments whose stored bytes were replaced, naming the integrity error", async () => {
    const client = createStores({ s3: { client: h.aws.s3, bucket: h.bucket } });
    const bytes = randomFillSync(new Uint8Array(20 * 1024 * 1024));
    const { payload } = await encodePayload(bytes, {
      topic: "big-s3",
      policies: policies(fileDir),
      stores: client,
      temporary: true,
    });
    if (!("ref" in payload)) throw new Error("expected a reference");
    // Same size, one byte changed in the last of its ranges: only the hash can tell.
    const forged = Uint8Array.from(bytes);
    forged[bytes.length - 1] = (forged[bytes.length - 1] ?? 0) ^ 0xff;
    await new Upload({
      client: h.aws.s3,
      partSize: 8 * 1024 * 1024,
      params: { Bucket: h.bucket, Key: payload.ref.location, Body: forged },
    }).done();
    const taskId = await h.sendTask(reverse, null, { args: payload, topic: "big-s3" });
    const result = await h.results.waitFor(taskId);
    expect(!result.ok && result.error.type).toBe("InputError");
    expect(!result.ok && result.error.message).toMatch(
      new RegExp(`${payload.ref.location} has sha256 [0-9a-f]{64} but its reference says`),
    );
  });
});

/** The first result of `taskId` on a queue other than the harness's own. */
async function receiveOne(queueUrl: string, taskId: string): Promise<{ pid: number; n: number }> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const out = await h.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
    );
    for (const m of out.Messages ?? []) {
      const result = ResultMessage.parse(JSON.parse(m.Body ?? ""));
      if (result.taskId === taskId && result.ok) return inline<{ pid: number; n: number }>(result);
    }
  }
  throw new Error(`no result for ${taskId} on ${queueUrl}`);
}

describe("warm workers", () => {
  useHarness();
  let agent: EndpointAgent;
  beforeAll(async () => {
    agent = await withAgent({ workers: 1 });
  });
  afterAll(() => closeAgent(agent));

  it("keeps both functions of an alternating pair warm (2 x slots idle by default)", async () => {
    const first = await h.registerNode("pid-a", "export default () => process.pid;");
    const second = await h.registerNode("pid-b", "export default () => process.pid + 0;");
    const pidOf = async (fn: FunctionRef) => {
      const result = await h.results.waitFor(await h.sendTask(fn, null));
      if (!result.ok) throw new Error(result.error.message);
      return inline<number>(result);
    };
    const a1 = await pidOf(first);
    const b1 = await pidOf(second);
    const a2 = await pidOf(first);
    const b2 = await pidOf(second);
    expect(a1).not.toBe(b1);
    // With one idle worker kept (as before), each switch forked a new worker.
    expect(a2).toBe(a1);
    expect(b2).toBe(b1);
  });

  it("never lets two sessions share a warm worker (module state stays a session's own)", async () => {
    // A module-level counter: a worker that served another session would show its count.
    const counter = await h.registerNode(
      "session-counter",
      "let n = 0; export default () => ({ pid: process.pid, n: ++n });",
    );
    const run = async (sessionId: string) => {
      const result = await h.results.waitFor(await h.sendTask(counter, null, { sessionId }));
      if (!result.ok) throw new Error(result.error.message);
      return inline<{ pid: number; n: number }>(result);
    };
    // Another session, with a result queue of its own (agents reply only to that one).
    const other = newSessionId();
    const theirQueue = h.server.createQueue(queueNames.results("ferry-", other)).queueUrl;
    const theirTask = await h.sendTask(counter, null, { sessionId: other, replyTo: theirQueue });
    const mine1 = await run(h.sessionId);
    const theirs = await receiveOne(theirQueue, theirTask);
    const mine2 = await run(h.sessionId);
    expect(theirs.pid).not.toBe(mine1.pid);
    expect(theirs.n).toBe(1);
    // Within a session the worker stays warm, state and all.
    expect(mine2).toEqual({ pid: mine1.pid, n: 2 });
  });
});

describe("prefetch", () => {
  useHarness("each");
  it("receives a task ahead of a free slot and starts it when the slot frees", async () => {
    const agent = await withAgent({ workers: 1, prefetchTasks: 1 });
    try {
      const wait = await h.registerNode(
        "wait-ms",
        "export default (a: { ms: number }) => new Promise((r) => setTimeout(() => r(a.ms), a.ms));",
      );
      const first = await h.sendTask(wait, { ms: 2_000 });
      await waitUntil(() => agent.runningTaskIds.includes(first), 10_000, "first task running");
      const second = await h.sendTask(wait, { ms: 10 });
      await waitUntil(() => agent.prefetched === 1, 10_000, "second task prefetched");
      const [a, b] = await Promise.all([h.results.waitFor(first), h.results.waitFor(second)]);
      expect(a.ok && b.ok).toBe(true);
      // Received while the first ran, started only after it ended.
      expect(b.timings.received).toBeLessThan(a.timings.ended ?? 0);
      expect(b.timings.started ?? 0).toBeGreaterThanOrEqual(a.timings.ended ?? Infinity);
      expect(b.attempt).toBe(1);
    } finally {
      await closeAgent(agent);
    }
  });

  it("hands a prefetched task back after 5 s of busy slots, for an idle agent to run", async () => {
    const busy = await withAgent({ workers: 1, prefetchTasks: 1 });
    let idle: EndpointAgent | undefined;
    try {
      // The long task holds its slot until the test opens its gate: the hand-back cannot lose
      // a race against it, however slow the machine.
      const gated = await h.registerNode(
        "gated",
        `import { randomFillSync } from "node:crypto";
import { existsSync } from "node:fs";
         export default async (a: { gate?: string }) => {
           while (a.gate && !existsSync(a.gate)) await new Promise((r) => setTimeout(r, 50));
           return "opened";
         };`,
      );
      const gate = join(h.dir, "gate-prefetch");
      const long = await h.sendTask(gated, { gate });
      await waitUntil(() => busy.runningTaskIds.includes(long), 10_000, "long task running");
      const short = await h.sendTask(gated, {});
      await waitUntil(() => busy.prefetched === 1, 10_000, "short task prefetched");
      // A second agent with no prefetch: it can only get the short task once it is handed back.
      idle = await withAgent({ workers: 1, prefetchTasks: 0 });
      const result = await h.results.waitFor(short, 30_000);
      expect(result.ok).toBe(true);
      // Run elsewhere while the long task still held its slot here; received a second time.
      expect(busy.runningTaskIds).toContain(long);
      expect(h.results.byTask(long)).toHaveLength(0);
      expect(result.attempt).toBe(2);
      await writeFile(gate, "");
      const longResult = await h.results.waitFor(long, 20_000);
      expect(longResult.ok).toBe(true);
      expect(result.timings.ended ?? Infinity).toBeLessThan(longResult.timings.ended ?? 0);
    } finally {
      await closeAgent(busy);
      await closeAgent(idle);
    }
  });
});

describe("what the agent accepts back from a worker", () => {
  useHarness();
  let agent: EndpointAgent;
  beforeAll(async () => {
    agent = await withAgent({ workers: 1 });
  });
  afterAll(() => closeAgent(agent));

  // Function code runs in the worker and can talk to the agent over the worker's own IPC
  // channel: it overhears the next task's request and forges that task's reply.
  const forger = (forged: string) => `
    import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
    import { join } from "node:path";
    let next;
    process.on("message", (m) => { next = m; });
    export default async () => {
      if (!next) return "first run: now listening";
      const stageDir = next.result.stageDir;
      const ref = (location, size, sha256) => ({
        type: "done", taskId: next.taskId, ok: true, value: null,
        encoded: { payload: { ref: { store: "file", location, size, sha256, codec: "bytes" } },
                   staged: true, serializeMs: 0, storeMs: 0 },
      });
      ${forged}
      return new Promise(() => {}); // the forged reply must be the one the agent takes
    };`;

  async function forgedOutcome(name: string, forged: string) {
    const fn = await h.registerNode(name, forger(forged));
    const first = await h.results.waitFor(await h.sendTask(fn, null));
    expect(first.ok).toBe(true);
    const result = await h.results.waitFor(await h.sendTask(fn, null, { walltimeSeconds: 30 }));
    expect(result.ok).toBe(false);
    return result.ok ? "" : `${result.error.type}: ${result.error.message}`;
  }

  it("refuses a reply naming a file outside the task's staging directory", async () => {
    const outcome = await forgedOutcome(
      "forge-escape",
      'process.send(ref("../../../../../../etc/hostname", 1, "0".repeat(64)));',
    );
    expect(outcome).toMatch(/^Refused: the worker's reply names a staged result the agent refuses/);
  });

  it("refuses a staged link that leads out of it, and a file whose size or hash is not the claimed one", async () => {
    const link = await forgedOutcome(
      "forge-link",
      `mkdirSync(join(stageDir, "tmp"), { recursive: true });
       symlinkSync("/etc/hostname", join(stageDir, "tmp", "x.bytes"));
       process.send(ref("tmp/x.bytes", 1, "0".repeat(64)));`,
    );
    expect(link).toMatch(/^Internal: .*(ELOOP|symbolic link)/);
    const lie = await forgedOutcome(
      "forge-hash",
      `mkdirSync(join(stageDir, "tmp"), { recursive: true });
       writeFileSync(join(stageDir, "tmp", "y.bytes"), "abc");
       process.send(ref("tmp/y.bytes", 3, "0".repeat(64)));`,
    );
    expect(lie).toMatch(/^Internal: result: .*sha256/);
  });
});
