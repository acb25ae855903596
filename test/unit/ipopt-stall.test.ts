// When the IP campaign's queue runs dry with nothing in flight and no update running: the pure
// decision, and whole runs (the real campaign, GP train and infer run in-process) that used to
// wait forever. Each run has a deadline well under the test's timeout, so a hang fails clearly.
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TaskFailedError } from "#core/errors.ts";
import type { ResultMessage, TaskError } from "#core/protocol/index.ts";
import type { Executor } from "#sdk/index.ts";
import { infer, train } from "../../campaigns/ipopt/functions/index.ts";
import { runIpCampaign } from "../../campaigns/ipopt/run/campaign.ts";
import { resolveCampaignOptions } from "../../campaigns/ipopt/run/options.ts";
import { type StallView, stallDecision } from "../../campaigns/ipopt/run/stall.ts";

describe("stall decision", () => {
  const dry: StallView = {
    queueDry: true,
    inFlight: 0,
    updateRunning: false,
    unsearched: 7,
    lastUpdateScored: true,
  };

  it("does nothing while the queue has work, a simulation is out or an update runs", () => {
    expect(stallDecision({ ...dry, queueDry: false })).toEqual({ kind: "none" });
    expect(stallDecision({ ...dry, inFlight: 1 })).toEqual({ kind: "none" });
    expect(stallDecision({ ...dry, updateRunning: true })).toEqual({ kind: "none" });
    expect(stallDecision({ ...dry, updateRunning: true, lastUpdateScored: false })).toEqual({
      kind: "none",
    });
  });

  it("updates the model to refill a dry queue while unsearched molecules remain", () => {
    expect(stallDecision(dry)).toEqual({ kind: "update", unsearched: 7 });
  });

  it("stops when every molecule was searched, whatever the last update gave", () => {
    expect(stallDecision({ ...dry, unsearched: 0 })).toEqual({ kind: "stop-exhausted" });
    expect(stallDecision({ ...dry, unsearched: 0, lastUpdateScored: false })).toEqual({
      kind: "stop-exhausted",
    });
  });

  it("stops with an error, not another update, when the last update scored nothing", () => {
    expect(stallDecision({ ...dry, lastUpdateScored: false })).toEqual({
      kind: "stop-error",
      unsearched: 7,
    });
  });
});

type Outcome = { ok: true; value: unknown } | { ok: false; error: TaskError };
type Handler = (args: unknown) => Promise<Outcome>;

/**
 * An Executor that runs each task in-process through the handler of its topic and delivers
 * the results in the order they finish, as the SDK's result stream does.
 */
class InProcessExecutor {
  readonly #handlers: Record<string, Handler>;
  readonly #pending = new Set<string>();
  readonly #done = new Map<string, ResultMessage>();
  readonly #ready: ResultMessage[] = [];
  readonly #waiting: ((r: IteratorResult<ResultMessage>) => void)[] = [];

  constructor(handlers: Record<string, Handler>) {
    this.#handlers = handlers;
  }

  async submitMany(specs: { topic: string; args: unknown }[]): Promise<{ taskId: string }[]> {
    return specs.map((spec) => {
      const taskId = randomUUID();
      this.#pending.add(taskId);
      const handler = this.#handlers[spec.topic];
      if (!handler) throw new Error(`no handler for ${spec.topic}`);
      setTimeout(() => {
        void handler(spec.args).then((outcome) => this.#deliver(taskId, spec.topic, outcome));
      }, 1);
      return { taskId };
    });
  }

  results(): AsyncIterable<ResultMessage> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          const ready = this.#ready.shift();
          if (ready) return Promise.resolve({ value: ready, done: false });
          return new Promise((resolve) => this.#waiting.push(resolve));
        },
      }),
    };
  }

  async value(result: ResultMessage): Promise<unknown> {
    return result.ok && "inline" in result.value ? result.value.inline : undefined;
  }

  pendingTaskIds(): string[] {
    return [...this.#pending];
  }

  async cancel(ids: string[]): Promise<void> {
    const error = { type: "Cancelled", message: "cancelled", retriable: false } as const;
    for (const id of ids) this.#deliver(id, "cancelled", { ok: false, error });
  }

  async result(taskId: string): Promise<ResultMessage | undefined> {
    return this.#done.get(taskId);
  }

  #deliver(taskId: string, topic: string, outcome: Outcome): void {
    if (!this.#pending.delete(taskId)) return;
    const now = Date.now();
    const result = {
      v: 1,
      taskId,
      sessionId: "00000000-0000-4000-8000-000000000000",
      topic,
      attempt: 1,
      timings: {
        created: now,
        sent: now,
        received: now,
        started: now,
        ended: now,
        resultSent: now,
      },
      worker: { endpointId: "00000000-0000-4000-8000-000000000001", host: "test", pid: 1 },
      ...(outcome.ok ? { ok: true, value: { inline: outcome.value } } : outcome),
    } as ResultMessage;
    this.#done.set(taskId, result);
    const waiter = this.#waiting.shift();
    if (waiter) waiter({ value: result, done: false });
    else this.#ready.push(result);
  }
}

const failed = (type: TaskError["type"], message: string): Outcome => ({
  ok: false,
  error: { type, message, retriable: false },
});
const unsupported: Handler = async () => failed("FunctionError", "unsupported element U");
const realTrain: Handler = async (args) => ({ ok: true, value: await train(args as never) });
const realInfer: Handler = async (args) => ({ ok: true, value: await infer(args as never) });

let out: string;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), "ferry-stall-"));
});
afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

/** A 12-molecule campaign with search-size 5; rejects if it has not ended within 20 s. */
async function runSmall(handlers: Record<string, Handler>, lines: string[]) {
  const options = resolveCampaignOptions({
    qcEndpoint: "qc",
    mlEndpoint: "ml",
    numQcWorkers: 2,
    modelCount: 2,
    searchSpaceLimit: 12,
    moleculesPerMlTask: 6,
    searchSize: 5,
    retrainFrequency: 3,
    proxystore: false,
    name: "stall",
    out,
  });
  const executor = new InProcessExecutor(handlers) as unknown as Executor;
  const run = runIpCampaign(executor, { qc: "qc-endpoint", ml: "ml-endpoint" }, options, {
    say: (line) => lines.push(line),
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the campaign hung: no end within 20 s")), 20_000);
  });
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function summaryFile(): Promise<Record<string, unknown>> {
  const [dir] = await readdir(out);
  return JSON.parse(await readFile(join(out, dir ?? "", "summary.json"), "utf8"));
}

describe("a campaign whose queue runs dry", () => {
  it("refills the queue by updating the model, then stops having searched everything", async () => {
    const lines: string[] = [];
    const summary = await runSmall(
      { simulate: unsupported, train: realTrain, infer: realInfer },
      lines,
    );
    // Every simulation failed, so no retrain came from retrain-frequency: the dry queue did it.
    expect(summary).toMatchObject({ simulated: 0, failed: 12, updates: 3 });
    expect(summary.tasks.simulate).toBe(12);
    expect(lines).toContain(
      "queue ran dry with 7 unsearched molecules: updating the model to refill it",
    );
    expect(lines).toContain(
      "queue ran dry with 2 unsearched molecules: updating the model to refill it",
    );
    const reason = "searched all 12 molecules of the search space: stopping at 0 results";
    expect(lines).toContain(reason);
    expect(summary.stopReason).toBe(reason);
    expect(await summaryFile()).toMatchObject({ stopReason: reason, failed: 12 });
  }, 40_000);

  const fails: Handler = async () => failed("FunctionError", "out of memory");
  it.each([
    ["train", { simulate: unsupported, train: fails, infer: realInfer }],
    ["infer", { simulate: unsupported, train: realTrain, infer: fails }],
  ])(
    "stops with an error saying where to look when every %s task fails",
    async (_, handlers) => {
      const lines: string[] = [];
      const error = await runSmall(handlers, lines).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskFailedError);
      const line = (error as TaskFailedError).toOneLine();
      expect(line).toMatch(/^model update 1 produced no scores and the queue is empty/);
      expect(line).toContain("ML endpoint ml-endpoint");
      expect(line).toContain("training-results.jsonl");
      expect(lines).toContain("update 1: no model produced scores; the queue is unchanged");
      const summary = await summaryFile();
      expect(summary).toMatchObject({ simulated: 0, failed: 0, updates: 1 });
      expect(summary.stopReason).toBe((error as TaskFailedError).message);
    },
    40_000,
  );

  it("stops at search-size and says so in summary.json", async () => {
    const lines: string[] = [];
    const ip: Handler = async (args) => ({
      ok: true,
      value: { smiles: (args as { smiles: string }).smiles, ip: 12 },
    });
    const summary = await runSmall({ simulate: ip, train: realTrain, infer: realInfer }, lines);
    expect(summary).toMatchObject({ simulated: 5, stopReason: "reached search-size: 5 results" });
  }, 40_000);
});
