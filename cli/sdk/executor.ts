import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ControlClient } from "#core/control/index.ts";
import { ConfigError, FerryError } from "#core/errors.ts";
import { newTaskId } from "#core/ids.ts";
import type { Logger } from "#core/logger.ts";
import {
  type FunctionRef,
  MAX_WALLTIME_SECONDS,
  PROTOCOL_VERSION,
  parseJsonWith,
  ResultMessage,
  type SessionRecord,
  TaskMessage,
} from "#core/protocol/index.ts";
import {
  assertMessageFits,
  decodePayload,
  deletePayload,
  encodePayload,
  isTemporaryPayload,
  type StorePolicies,
  type Stores,
} from "#core/store/index.ts";
import { AsyncQueue } from "./async-queue.ts";
import { sendInBatches } from "./batch-sender.ts";
import { type JournalEntry, type JournalTask, readJournal, SessionJournal } from "./journal.ts";
import { ResultListener } from "./result-listener.ts";

export interface ExecutorDeps {
  sqs: SQSClient;
  control: Pick<ControlClient, "call">;
  /** Backends for arguments and results sent by reference; unset: everything inline. */
  stores?: Stores;
  logger?: Logger;
}

export interface ExecutorOptions {
  /** Per-topic store policies (backend and byte threshold), from resolveStorePolicy. @default {} (s3 past 10 kB when a store exists) */
  storePolicies?: StorePolicies;
  /** Where session journals go, so a restarted client can reattach; unset: no journal. */
  journalDir?: string;
  /** Defaults for every task. */
  walltimeSeconds?: number;
  maxAttempts?: number;
  /**
   * With tasks pending and no result for this long, ask the control plane for results agents
   * parked because the session's queue refused them.
   * @default 30_000
   */
  parkedCheckIntervalMs?: number;
}

export interface TaskSpec {
  function: string;
  args: unknown;
  endpointId: string;
  /** @default "default" */
  topic?: string;
  /** @default 3_600 */
  walltimeSeconds?: number;
  /** @default 3 */
  maxAttempts?: number;
}
export type SubmitOptions = Omit<TaskSpec, "function" | "args">;

export interface TaskFuture {
  taskId: string;
  result: Promise<ResultMessage>;
}

interface Waiter {
  resolve: (r: ResultMessage) => void;
  reject: (e: Error) => void;
  promise: Promise<ResultMessage>;
}

/**
 * Submits tasks to endpoints and collects their results from this session's own result queue,
 * as futures or as an async iterator. Delivery is at least once; duplicates are dropped here by
 * task id. Large arguments go to the proxy store under the topic's policy.
 */
export class Executor {
  readonly #deps: ExecutorDeps;
  readonly #options: ExecutorOptions;
  readonly #abort = new AbortController();
  readonly #waiters = new Map<string, Waiter>();
  readonly #done = new Map<string, ResultMessage>();
  readonly #functions = new Map<string, Promise<FunctionRef>>();
  readonly #queueUrls = new Map<string, Promise<string>>();
  readonly #stream = new AsyncQueue<ResultMessage>();
  #session: SessionRecord | undefined;
  #journal: SessionJournal | undefined;
  #listener: Promise<void> | undefined;
  #closed = false;

  constructor(deps: ExecutorDeps, options: ExecutorOptions = {}) {
    this.#deps = deps;
    this.#options = options;
  }

  get sessionId(): string | undefined {
    return this.#session?.sessionId;
  }

  /**
   * Open a new session, or reattach to an existing one: then every task its journal lists
   * without a result gets a future again, and results that waited in the queue are collected.
   */
  async open(sessionId?: string): Promise<SessionRecord> {
    if (this.#session) return this.#session;
    const { session } = await this.#deps.control.call(
      "openSession",
      sessionId ? { sessionId } : {},
    );
    this.#session = session;
    if (this.#options.journalDir) {
      this.#journal = new SessionJournal(this.#options.journalDir, session.sessionId);
      const previous = sessionId
        ? await readJournal(this.#options.journalDir, sessionId)
        : undefined;
      if (previous) {
        for (const task of previous.tasks.values()) {
          if (task.result) this.#done.set(task.taskId, task.result);
          else this.#waiter(task.taskId);
        }
        await this.#resendUnsent(previous.tasks.values());
      } else {
        await this.#journal.append([
          {
            kind: "opened",
            sessionId: session.sessionId,
            resultQueueUrl: session.resultQueueUrl,
            at: Date.now(),
          },
        ]);
      }
    }
    this.#listener = this.#listen(session.resultQueueUrl, sessionId !== undefined);
    return session;
  }

  /** The function's current version (name and content hash), as the agent will check them. */
  resolveFunction(name: string): Promise<FunctionRef> {
    let ref = this.#functions.get(name);
    if (!ref) {
      ref = this.#deps.control
        .call("getFunction", { name })
        .then(({ function: fn }) => ({ name: fn.name, sha256: fn.sha256 }));
      ref.catch(() => this.#functions.delete(name));
      this.#functions.set(name, ref);
    }
    return ref;
  }

  /** Send one task; its future settles with the result message. */
  async submit(fn: string, args: unknown, options: SubmitOptions): Promise<TaskFuture> {
    const [future] = await this.submitMany([{ function: fn, args, ...options }]);
    if (!future) throw new FerryError("submit produced no task");
    return future;
  }

  /** Send many tasks with SendMessageBatch (10 a call, several calls in flight). */
  async submitMany(specs: TaskSpec[]): Promise<TaskFuture[]> {
    const session = await this.open();
    const built = await Promise.all(specs.map((spec) => this.#build(session, spec)));
    const journal: JournalEntry[] = built.map(({ task, body }) => ({
      kind: "submitted",
      taskId: task.taskId,
      endpointId: task.endpointId,
      function: task.function,
      topic: task.topic,
      at: task.created,
      message: body,
    }));
    // Journal first: a crash after sending must still know the task exists.
    await this.#journal?.append(journal);
    const byQueue = new Map<string, { id: string; body: string }[]>();
    for (const { task, queueUrl, body } of built) {
      this.#waiter(task.taskId);
      const list = byQueue.get(queueUrl) ?? [];
      list.push({ id: task.taskId, body });
      byQueue.set(queueUrl, list);
    }
    await Promise.all([...byQueue].map(([queueUrl, messages]) => this.#send(queueUrl, messages)));
    return built.map(({ task }) => ({ taskId: task.taskId, result: this.result(task.taskId) }));
  }

  /** Send, then journal that the messages are out (so a reattach need not send them again). */
  async #send(queueUrl: string, messages: { id: string; body: string }[]): Promise<void> {
    await sendInBatches(this.#deps.sqs, queueUrl, messages, { signal: this.#abort.signal });
    await this.#journal?.append([
      { kind: "sent", taskIds: messages.map((m) => m.id), at: Date.now() },
    ]);
  }

  /**
   * Re-send the tasks a killed client journaled but may not have sent. Some may have gone out
   * after all: agents run them twice at worst, and their second result is dropped by task id.
   */
  async #resendUnsent(tasks: Iterable<JournalTask>): Promise<void> {
    const byQueue = new Map<string, { id: string; body: string }[]>();
    for (const task of tasks) {
      if (task.result || task.unsentMessage === undefined) continue;
      const queueUrl = await this.#taskQueueUrl(task.endpointId);
      const list = byQueue.get(queueUrl) ?? [];
      list.push({ id: task.taskId, body: task.unsentMessage });
      byQueue.set(queueUrl, list);
    }
    await Promise.all([...byQueue].map(([queueUrl, messages]) => this.#send(queueUrl, messages)));
  }

  async #build(session: SessionRecord, spec: TaskSpec) {
    const [ref, queueUrl] = await Promise.all([
      this.resolveFunction(spec.function),
      this.#taskQueueUrl(spec.endpointId),
    ]);
    const topic = spec.topic ?? "default";
    const walltimeSeconds = spec.walltimeSeconds ?? this.#options.walltimeSeconds ?? 3_600;
    checkWalltime(walltimeSeconds);
    const encoded = await encodePayload(spec.args, {
      topic,
      policies: this.#options.storePolicies ?? {},
      stores: this.#deps.stores ?? {},
      temporary: true,
      // The session's owner's part of the store: the only one IAM lets this client reach.
      owner: session.ownerId,
    });
    const now = Date.now();
    const task = TaskMessage.parse({
      v: PROTOCOL_VERSION,
      taskId: newTaskId(),
      sessionId: session.sessionId,
      endpointId: spec.endpointId,
      function: ref,
      topic,
      args: encoded.payload,
      ...resultStoreOf(this.#options.storePolicies, topic),
      replyTo: session.resultQueueUrl,
      ...(session.ownerId === undefined ? {} : { objectOwner: session.ownerId }),
      walltimeSeconds,
      maxAttempts: spec.maxAttempts ?? this.#options.maxAttempts ?? 3,
      created: now,
      sent: now,
    });
    const body = JSON.stringify(task);
    assertMessageFits(body, { topic, what: "task message" });
    return { task, queueUrl, body };
  }

  #taskQueueUrl(endpointId: string): Promise<string> {
    let url = this.#queueUrls.get(endpointId);
    if (!url) {
      url = this.#deps.control
        .call("describeEndpoint", { endpointId })
        .then((v) => v.endpoint.queueUrl);
      url.catch(() => this.#queueUrls.delete(endpointId));
      this.#queueUrls.set(endpointId, url);
    }
    return url;
  }

  #waiter(taskId: string): Waiter {
    let waiter = this.#waiters.get(taskId);
    if (!waiter) {
      let resolve!: (r: ResultMessage) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<ResultMessage>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // A future nobody awaits must not crash the process when the executor closes.
      promise.catch(() => undefined);
      waiter = { resolve, reject, promise };
      this.#waiters.set(taskId, waiter);
    }
    return waiter;
  }

  /** The result of a task submitted in this session (or found in its journal). */
  result(taskId: string): Promise<ResultMessage> {
    const done = this.#done.get(taskId);
    if (done) return Promise.resolve(done);
    return this.#waiter(taskId).promise;
  }

  /** Tasks still waiting for a result. */
  pendingTaskIds(): string[] {
    return [...this.#waiters.keys()];
  }

  /** Every result as it arrives, each task once, until close(). */
  results(): AsyncIterable<ResultMessage> {
    return this.#stream;
  }

  /** A result's value, fetched from the store when it came by reference (then evicted if temporary). */
  async value(result: ResultMessage, options: { keep?: boolean } = {}): Promise<unknown> {
    if (!result.ok)
      throw new FerryError(
        `task ${result.taskId} failed: ${result.error.type}: ${result.error.message}`,
        { context: { taskId: result.taskId } },
      );
    const stores = this.#deps.stores ?? {};
    const value = await decodePayload(result.value, stores);
    if (!options.keep && isTemporaryPayload(result.value))
      await deletePayload(result.value, stores).catch(() => undefined);
    return value;
  }

  /**
   * Ask endpoints to cancel tasks: a queued one never runs, a running one is stopped; either way
   * its result says Cancelled. A task that already finished keeps its result.
   */
  async cancel(taskIds: string[]): Promise<void> {
    const session = await this.open();
    await this.#journal?.append([{ kind: "cancelRequested", taskIds, at: Date.now() }]);
    await this.#deps.control.call("cancelTasks", { sessionId: session.sessionId, taskIds });
  }

  /** Long-poll the session's queue, and collect what agents parked for it. */
  #listen(queueUrl: string, reattached: boolean): Promise<void> {
    const sessionId = this.#session?.sessionId ?? "";
    const listener = new ResultListener({
      sqs: this.#deps.sqs,
      control: this.#deps.control,
      sessionId,
      queueUrl,
      signal: this.#abort.signal,
      logger: this.#deps.logger,
      reattached,
      pending: () => this.#waiters.size,
      ...(this.#options.parkedCheckIntervalMs === undefined
        ? {}
        : { parkedCheckIntervalMs: this.#options.parkedCheckIntervalMs }),
      onMessages: (bodies) =>
        this.#accept(bodies.map((b) => this.#parse(b)).filter((r) => r !== undefined)),
      onParked: (results) =>
        this.#accept(results.filter((r) => this.#isNew(r)).map((r) => this.#received(r))),
    });
    return listener.run();
  }

  /**
   * Callers hear first (a disk write is most of the client's share of a short task's round
   * trip); the journal still comes before the delete: a crash in between re-delivers.
   */
  async #accept(fresh: ResultMessage[]): Promise<void> {
    for (const r of fresh) this.#settle(r);
    await this.#journal?.append(fresh.map((result) => ({ kind: "result", result })));
  }

  #parse(body: string): ResultMessage | undefined {
    let result: ResultMessage;
    try {
      result = parseJsonWith(ResultMessage, body, "result message");
    } catch (error) {
      this.#deps.logger?.error(
        { err: error, sessionId: this.sessionId },
        "dropped a malformed result",
      );
      return undefined;
    }
    return this.#isNew(result) ? this.#received(result) : undefined;
  }

  /** Delivery is at least once: a task's second result is dropped here. */
  #isNew(result: ResultMessage): boolean {
    return !this.#done.has(result.taskId);
  }

  #received(result: ResultMessage): ResultMessage {
    result.timings.resultReceived = Date.now();
    this.#done.set(result.taskId, result);
    return result;
  }

  #settle(result: ResultMessage): void {
    const waiter = this.#waiters.get(result.taskId);
    this.#waiters.delete(result.taskId);
    waiter?.resolve(result);
    this.#stream.push(result);
  }

  /**
   * Stop listening. With `closeSession`, also close the session (its result queue is deleted),
   * but only when no task is still waiting for its result: closing then would make agents park
   * those results instead of sending them. `closeSession: "force"` closes regardless (results
   * still to come are then parked, and `ferry results` collects them).
   * @returns whether the session was closed, and the tasks still pending
   */
  async close(
    options: { closeSession?: boolean | "force" } = {},
  ): Promise<{ sessionClosed: boolean; pendingTaskIds: string[] }> {
    const pendingTaskIds = this.pendingTaskIds();
    if (this.#closed) return { sessionClosed: false, pendingTaskIds };
    this.#closed = true;
    this.#abort.abort();
    await this.#listener?.catch(() => undefined);
    this.#stream.end();
    for (const waiter of this.#waiters.values())
      waiter.reject(new FerryError("executor closed before the result arrived"));
    this.#waiters.clear();
    const session = this.#session;
    const closing =
      session !== undefined &&
      (options.closeSession === "force" ||
        (options.closeSession === true && pendingTaskIds.length === 0));
    if (options.closeSession && !closing && session) {
      this.#deps.logger?.warn(
        { sessionId: session.sessionId, pending: pendingTaskIds.length },
        "session left open: tasks are still waiting for their results",
      );
    }
    try {
      if (closing && session) {
        await this.#journal?.append([{ kind: "closed", at: Date.now() }]);
        await this.#deps.control.call("closeSession", { sessionId: session.sessionId });
      }
    } finally {
      this.#journal?.close();
    }
    return { sessionClosed: closing, pendingTaskIds };
  }
}

/** The topic's policy as the task's resultStore, when the client chose one for it. */
function resultStoreOf(policies: StorePolicies | undefined, topic: string) {
  const policy = policies && Object.hasOwn(policies, topic) ? policies[topic] : undefined;
  return policy
    ? { resultStore: { backend: policy.backend, thresholdBytes: policy.thresholdBytes } }
    : {};
}

/** A walltime SQS can hold a task for, refused with the reason otherwise (before anything is sent). */
function checkWalltime(walltimeSeconds: number): void {
  if (
    Number.isInteger(walltimeSeconds) &&
    walltimeSeconds > 0 &&
    walltimeSeconds <= MAX_WALLTIME_SECONDS
  )
    return;
  throw new ConfigError(
    `walltime ${walltimeSeconds} s: a task runs for 1 to ${MAX_WALLTIME_SECONDS} s (11 h)`,
    {
      hint: "SQS keeps a running task's message for at most 12 h, and Ferry keeps an hour of that for staging and delivery: split longer work into tasks that checkpoint",
    },
  );
}
