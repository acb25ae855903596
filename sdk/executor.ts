import { FerryError } from "#core/errors.ts";
import type { FunctionRef, ResultMessage, SessionRecord } from "#core/protocol/index.ts";
import { asCompleted } from "./as-completed.ts";
import { taskQueueUrlOf } from "./endpoints.ts";
import type {
  CloseOptions,
  ExecutorDeps,
  ExecutorOptions,
  SubmitOptions,
  TaskFuture,
  ValueOptions,
} from "./executor-types.ts";
import { type JournalTask, openedEntry, readJournal, SessionJournal } from "./journal.ts";
import { memoized } from "./memo.ts";
import { ResultBook } from "./result-book.ts";
import { ResultListener } from "./result-listener.ts";
import { parseResultBody, resultValue } from "./result-value.ts";
import { buildTask, type TaskSpec } from "./task-builder.ts";
import { type Outgoing, sendAndJournal, submittedEntries } from "./task-sender.ts";

/**
 * Submits tasks to endpoints and collects their results from this session's own result queue,
 * as futures or as an async iterator. Delivery is at least once; duplicates are dropped here by
 * task id. Large arguments go to the proxy store under the topic's policy. With a journal
 * (executorFor keeps one under `$FERRY_HOME/sessions`), a restarted program can `open` the same
 * session again and still get every result. Build one with executorFor; call `close` when done.
 * @example
 * ```ts
 * import { connect, executorFor, resolveEndpointId } from "ferry";
 *
 * const conn = await connect();
 * const executor = executorFor(conn);
 * try {
 *   const endpointId = await resolveEndpointId(conn.control, "cluster-a");
 *   const task = await executor.submit("simulate", { steps: 1_000 }, { endpointId });
 *   const result = await task.result; // a failed task resolves too: check result.ok
 *   console.log(await executor.value(result)); // throws if the task failed
 * } finally {
 *   await executor.close({ closeSession: true });
 *   conn.close();
 * }
 * ```
 */
export class Executor {
  readonly #deps: ExecutorDeps;
  readonly #options: ExecutorOptions;
  readonly #abort = new AbortController();
  readonly #book = new ResultBook();
  /** Deletions of temporary values already read (value()), which close() waits for. */
  readonly #deletes = new Set<Promise<void>>();
  /**
   * The function's current version (name and content hash), as the agent will check them. Asked
   * once per name for the executor's life: a version registered later is seen by a new executor.
   */
  readonly resolveFunction = memoized((name) =>
    this.#deps.control
      .call("getFunction", { name })
      .then(({ function: fn }): FunctionRef => ({ name: fn.name, sha256: fn.sha256 })),
  );
  /** An endpoint's queue, or a group's (`group:<name>` resolves to a group id). */
  readonly #taskQueueUrl = memoized((endpointId) => taskQueueUrlOf(this.#deps.control, endpointId));
  #session: SessionRecord | undefined;
  #journal: SessionJournal | undefined;
  #listener: Promise<void> | undefined;
  #closed = false;

  /** Nothing is contacted until `open` or the first submit. */
  constructor(deps: ExecutorDeps, options: ExecutorOptions = {}) {
    this.#deps = deps;
    this.#options = options;
  }

  /** The open session's id (to reattach to later, or for `ferry results`); unset before `open`. */
  get sessionId(): string | undefined {
    return this.#session?.sessionId;
  }

  /**
   * Open a new session, or reattach to an existing one: then every task its journal lists
   * without a result gets a future again, tasks journaled but maybe never sent are sent, and
   * results that waited in the queue or were parked are collected. Submitting opens a new
   * session if none is open; once open, later calls return that session whatever id they pass.
   * @param sessionId the session to reattach to; a closed one is refused (ConflictError)
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
        this.#book.restore(previous.tasks.values());
        await this.#resendUnsent(previous.tasks.values());
      } else {
        await this.#journal.append([openedEntry(session)]);
      }
    }
    this.#listener = this.#listen(session.resultQueueUrl, sessionId !== undefined);
    return session;
  }

  /**
   * Send one task; its future settles with the result message. Resolves once the task is
   * journaled and its message is in the endpoint's queue.
   */
  async submit(fn: string, args: unknown, options: SubmitOptions): Promise<TaskFuture> {
    const [future] = await this.submitMany([{ function: fn, args, ...options }]);
    if (!future) throw new FerryError("submit produced no task");
    return future;
  }

  /**
   * Send many tasks with SendMessageBatch (10 a call, several calls in flight); the futures come
   * in the order of `specs`. Every task is checked and its arguments stored before any is sent.
   */
  async submitMany(specs: TaskSpec[]): Promise<TaskFuture[]> {
    const session = await this.open();
    const built = await Promise.all(specs.map((spec) => this.#build(session, spec)));
    // Journal first: a crash after sending must still know the task exists.
    await this.#journal?.append(submittedEntries(built));
    for (const { task } of built) void this.#book.future(task.taskId);
    await this.#sendAll(
      built.map(({ task, queueUrl, body }) => ({ queueUrl, id: task.taskId, body })),
    );
    return built.map(({ task }) => ({ taskId: task.taskId, result: this.result(task.taskId) }));
  }

  #sendAll(outgoing: readonly Outgoing[]): Promise<void> {
    return sendAndJournal(this.#deps.sqs, this.#journal, outgoing, this.#abort.signal);
  }

  /**
   * Re-send the tasks a killed client journaled but may not have sent. Some may have gone out
   * after all: agents run them twice at worst, and their second result is dropped by task id.
   */
  async #resendUnsent(tasks: Iterable<JournalTask>): Promise<void> {
    const outgoing: Outgoing[] = [];
    for (const task of tasks) {
      if (task.result || task.unsentMessage === undefined) continue;
      const queueUrl = await this.#taskQueueUrl(task.endpointId);
      outgoing.push({ queueUrl, id: task.taskId, body: task.unsentMessage });
    }
    await this.#sendAll(outgoing);
  }

  async #build(session: SessionRecord, spec: TaskSpec) {
    const [ref, queueUrl] = await Promise.all([
      this.resolveFunction(spec.function),
      this.#taskQueueUrl(spec.endpointId),
    ]);
    const { task, body } = await buildTask(session, spec, ref, {
      storePolicies: this.#options.storePolicies,
      stores: this.#deps.stores,
      walltimeSeconds: this.#options.walltimeSeconds,
      maxAttempts: this.#options.maxAttempts,
    });
    return { task, queueUrl, body };
  }

  /**
   * The result of a task submitted in this session (or found in its journal on reattach); the
   * same promise as its TaskFuture. Rejects if the executor closes before the result arrives.
   */
  result(taskId: string): Promise<ResultMessage> {
    return this.#book.future(taskId);
  }

  /** Tasks still waiting for a result (asking `result` for an id counts it as waiting). */
  pendingTaskIds(): string[] {
    return this.#book.pending();
  }

  /**
   * Every result as it arrives, each task once, in arrival order, until close(); results that
   * came before the loop started are kept for it. One stream per executor: two loops share it,
   * each result going to one of them. Results a reattach found already in the journal are not
   * on it (use `result`). It ends only at close: for a known set of tasks, loop over
   * `asCompleted(futures)` instead, which ends when all are in. (Breaking out when
   * `pendingTaskIds()` is empty drops results that arrived during the loop's last await.)
   */
  results(): AsyncIterable<ResultMessage> {
    return this.#book.stream();
  }

  /** These tasks' results as they arrive, first first; ends when all are in (see asCompleted). */
  asCompleted(futures: readonly TaskFuture[]): AsyncIterable<ResultMessage> {
    return asCompleted(futures);
  }

  /**
   * A result's value: inline as it is, or fetched from the store when it came by reference and
   * checked against the reference's size and sha256 (a mismatch throws IntegrityError, never
   * wrong data). A temporary stored value is then deleted, so read it once or pass `keep`; the
   * deletion runs after the value is returned, and close() waits for it.
   * @throws FerryError when the result is a failure (its error type and message in the text)
   */
  value(result: ResultMessage, options: ValueOptions = {}): Promise<unknown> {
    return resultValue(result, this.#deps.stores ?? {}, options, this.#deletes);
  }

  /**
   * Ask endpoints to cancel tasks: a queued one never runs, a running one is stopped; either way
   * its result says Cancelled. A task that already finished keeps its result. Resolves once the
   * request is recorded, not when the tasks stop: their results still arrive as usual.
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
      pending: () => this.#book.size,
      ...(this.#options.parkedCheckIntervalMs === undefined
        ? {}
        : { parkedCheckIntervalMs: this.#options.parkedCheckIntervalMs }),
      onMessages: (bodies) =>
        this.#accept(
          bodies
            .map((b) => parseResultBody(b, this.#deps.logger, sessionId))
            .filter((r) => r !== undefined),
        ),
      onParked: (results) => this.#accept(results),
    });
    return listener.run();
  }

  /**
   * Callers hear first (a disk write is most of the client's share of a short task's round
   * trip); the journal still comes before the delete: a crash in between re-delivers.
   */
  async #accept(results: ResultMessage[]): Promise<void> {
    const fresh = this.#book.fresh(results);
    for (const r of fresh) this.#book.settle(r);
    await this.#journal?.append(fresh.map((result) => ({ kind: "result", result })));
  }

  /**
   * Stop listening. With `closeSession`, also close the session (its result queue is deleted),
   * but only when no task is still waiting for its result: closing then would make agents park
   * those results instead of sending them. `closeSession: "force"` closes regardless (results
   * still to come are then parked, and `ferry results` collects them). Futures still waiting
   * reject and `results()` ends. A left-open session can be reattached with `open(sessionId)`.
   * Closing again does nothing.
   * @returns whether the session was closed, and the tasks still pending
   */
  async close(
    options: CloseOptions = {},
  ): Promise<{ sessionClosed: boolean; pendingTaskIds: string[] }> {
    const pendingTaskIds = this.pendingTaskIds();
    if (this.#closed) return { sessionClosed: false, pendingTaskIds };
    this.#closed = true;
    this.#abort.abort();
    await this.#listener?.catch(() => undefined);
    await Promise.all(this.#deletes);
    this.#book.close();
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
