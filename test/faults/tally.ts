import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ResultMessage } from "#core/protocol/index.ts";
import type { Executor } from "#sdk/index.ts";

/** One scenario's figures, as the table prints them. */
export interface Figures {
  scenario: string;
  submitted: number;
  ok: number;
  failedWithReason: number;
  failedNoReason: number;
  /** Submitted tasks that never produced a result before the deadline. */
  lost: number;
  /** A task id the client surfaced more than once (the Executor must make this 0). */
  duplicatesSurfaced: number;
  /** Extra deliveries of a task's result on the result queue, before the client drops them. */
  rawDuplicates: number;
  seconds: number;
  /** What else the scenario checked, e.g. "3 kills", or why it failed. */
  notes: string[];
  /** Checks beyond the counts that failed (e.g. the agent died): any makes the run fail. */
  problems: string[];
}

/**
 * Counts what a client sees: results surfaced by an Executor's stream, per task id, and raw
 * result deliveries seen on the result queue (through a counting SQS client).
 */
export class Tally {
  readonly submitted = new Set<string>();
  readonly surfaced = new Map<string, number>();
  readonly results = new Map<string, ResultMessage>();
  readonly raw = new Map<string, number>();
  readonly notes: string[] = [];
  readonly problems: string[] = [];
  readonly #started = Date.now();
  #waiters: Array<() => void> = [];

  readonly scenario: string;
  /** Whether every task should succeed: a failure with a reason then fails the scenario too. */
  readonly #allOk: boolean;

  /**
   * @param options.allOk every task is expected to succeed (a scenario whose faults should
   *   cost retries, not results); one with its own per-task expectations turns it off.
   *   @default true
   */
  constructor(scenario: string, options: { allOk?: boolean } = {}) {
    this.scenario = scenario;
    this.#allOk = options.allOk ?? true;
  }

  /** An SQS client that counts every result body received from a result queue. */
  countingSqs(sqs: SQSClient): SQSClient {
    const send = sqs.send.bind(sqs) as (...a: unknown[]) => Promise<unknown>;
    return new Proxy(sqs, {
      get: (target, key, receiver) => {
        if (key !== "send") return Reflect.get(target, key, receiver);
        return async (...args: unknown[]) => {
          const out = (await send(...args)) as { Messages?: { Body?: string }[] };
          const command = args[0];
          if (
            command instanceof ReceiveMessageCommand &&
            command.input.QueueUrl?.includes("results-")
          ) {
            for (const m of out.Messages ?? []) {
              const id = taskIdOf(m.Body);
              if (id) this.raw.set(id, (this.raw.get(id) ?? 0) + 1);
            }
          }
          return out;
        };
      },
    });
  }

  /** Count every result the executor surfaces, until its stream ends. */
  follow(executor: Executor): Promise<void> {
    return (async () => {
      for await (const result of executor.results()) this.surface(result);
    })();
  }

  surface(result: ResultMessage): void {
    this.surfaced.set(result.taskId, (this.surfaced.get(result.taskId) ?? 0) + 1);
    if (!this.results.has(result.taskId)) this.results.set(result.taskId, result);
    for (const wake of this.#waiters) wake();
  }

  /** Resolves once every submitted task has a result, or at the deadline. */
  async waitForAll(timeoutMs: number, log?: (message: string) => void): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let nextLog = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (log && Date.now() >= nextLog) {
        nextLog += 10_000;
        log(`${this.scenario}: ${this.results.size}/${this.submitted.size} results`);
      }
      if ([...this.submitted].every((id) => this.results.has(id))) return true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.#waiters = [];
    }
    return [...this.submitted].every((id) => this.results.has(id));
  }

  /** Results of the given tasks by error type ("ok" for successes). */
  typesOf(ids: Iterable<string>): Map<string, number> {
    const types = new Map<string, number>();
    for (const id of ids) {
      const r = this.results.get(id);
      const type = r === undefined ? "lost" : r.ok ? "ok" : r.error.type;
      types.set(type, (types.get(type) ?? 0) + 1);
    }
    return types;
  }

  figures(): Figures {
    let ok = 0;
    let failedWithReason = 0;
    let failedNoReason = 0;
    let lost = 0;
    let firstFailure = "";
    for (const id of this.submitted) {
      const r = this.results.get(id);
      if (!r) lost++;
      else if (r.ok) ok++;
      else if (r.error.message.trim().length > 0) {
        failedWithReason++;
        firstFailure ||= `${r.error.type}: ${r.error.message}`;
      } else failedNoReason++;
    }
    const problems = [...this.problems];
    if (this.#allOk && failedWithReason > 0) {
      problems.push(
        `${failedWithReason} task(s) failed that should have succeeded (${firstFailure})`,
      );
    }
    const extra = (counts: Map<string, number>) =>
      [...counts.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    return {
      scenario: this.scenario,
      submitted: this.submitted.size,
      ok,
      failedWithReason,
      failedNoReason,
      lost,
      duplicatesSurfaced: extra(this.surfaced),
      rawDuplicates: extra(this.raw),
      seconds: Math.round((Date.now() - this.#started) / 100) / 10,
      notes: this.notes,
      problems,
    };
  }
}

export function taskIdOf(body: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(body ?? "") as { taskId?: unknown } | null)?.taskId;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a scenario met the targets: nothing lost or surfaced twice, every failure explained. */
export function passed(f: Figures): boolean {
  return (
    f.lost === 0 && f.duplicatesSurfaced === 0 && f.failedNoReason === 0 && f.problems.length === 0
  );
}

export function formatTable(rows: Figures[]): string {
  const head = [
    "scenario",
    "submitted",
    "ok",
    "failed (reason)",
    "failed (no reason)",
    "lost",
    "dup surfaced",
    "dup raw",
    "s",
    "verdict",
  ];
  const body = rows.map((f) => [
    f.scenario,
    String(f.submitted),
    String(f.ok),
    String(f.failedWithReason),
    String(f.failedNoReason),
    String(f.lost),
    String(f.duplicatesSurfaced),
    String(f.rawDuplicates),
    String(f.seconds),
    passed(f) ? "PASS" : "FAIL",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => `${i === 0 ? ":" : "-"}${"-".repeat(w)}${i === 0 ? "-" : ":"}`).join("|")}|`;
  const notes = rows.flatMap((f) =>
    [...f.notes, ...f.problems.map((p) => `PROBLEM: ${p}`)].map((n) => `- ${f.scenario}: ${n}`),
  );
  return [line(head), rule, ...body.map(line), "", ...notes].join("\n");
}
