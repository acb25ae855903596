import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { ControlClient } from "#core/control/index.ts";
import { FerryError } from "#core/errors.ts";
import { newTaskId } from "#core/ids.ts";
import type { Logger } from "#core/logger.ts";
import {
  type FunctionRef,
  PROTOCOL_VERSION,
  parseJsonWith,
  ResultMessage,
  type SessionRecord,
  TaskMessage,
} from "#core/protocol/index.ts";

export interface ExecutorDeps {
  sqs: SQSClient;
  control: Pick<ControlClient, "call">;
  queuePrefix: string;
  logger?: Logger;
}

export interface SubmitOptions {
  endpointId: string;
  /** @default "default" */
  topic?: string;
  /** @default 3_600 */
  walltimeSeconds?: number;
  /** @default 3 */
  maxAttempts?: number;
}

/**
 * Submits tasks to endpoints and collects their results from this session's own result queue.
 * Results are delivered at least once; duplicates are dropped here by task id.
 */
export class Executor {
  readonly #deps: ExecutorDeps;
  readonly #abort = new AbortController();
  readonly #pending = new Map<
    string,
    { resolve: (r: ResultMessage) => void; reject: (e: Error) => void }
  >();
  readonly #seen = new Set<string>();
  readonly #functions = new Map<string, FunctionRef>();
  #session: SessionRecord | undefined;
  #listener: Promise<void> | undefined;
  #closed = false;

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
  }

  get sessionId(): string | undefined {
    return this.#session?.sessionId;
  }

  /** Open (or reattach to) a session: its result queue is created by the registration function. */
  async open(sessionId?: string): Promise<SessionRecord> {
    if (this.#session) return this.#session;
    const { session } = await this.#deps.control.call(
      "openSession",
      sessionId ? { sessionId } : {},
    );
    this.#session = session;
    this.#listener = this.#listen(session.resultQueueUrl);
    return session;
  }

  /** The function's current version: name and content hash, as the agent will check them. */
  async resolveFunction(name: string): Promise<FunctionRef> {
    const cached = this.#functions.get(name);
    if (cached) return cached;
    const { function: fn } = await this.#deps.control.call("getFunction", { name });
    const ref = { name: fn.name, sha256: fn.sha256 };
    this.#functions.set(name, ref);
    return ref;
  }

  /** Send one task; the returned promise settles with its result message. */
  async submit(
    fn: string,
    args: unknown,
    options: SubmitOptions,
  ): Promise<{ taskId: string; result: Promise<ResultMessage> }> {
    const session = await this.open();
    const ref = await this.resolveFunction(fn);
    const now = Date.now();
    const task = TaskMessage.parse({
      v: PROTOCOL_VERSION,
      taskId: newTaskId(),
      sessionId: session.sessionId,
      endpointId: options.endpointId,
      function: ref,
      topic: options.topic ?? "default",
      args: { inline: args },
      replyTo: session.resultQueueUrl,
      walltimeSeconds: options.walltimeSeconds ?? 3_600,
      maxAttempts: options.maxAttempts ?? 3,
      created: now,
      sent: now,
    } satisfies Parameters<typeof TaskMessage.parse>[0]);
    const result = new Promise<ResultMessage>((resolve, reject) => {
      this.#pending.set(task.taskId, { resolve, reject });
    });
    const queueUrl = await this.#taskQueueUrl(options.endpointId);
    await this.#deps.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(task) }),
      { abortSignal: this.#abort.signal },
    );
    return { taskId: task.taskId, result };
  }

  readonly #queueUrls = new Map<string, string>();
  async #taskQueueUrl(endpointId: string): Promise<string> {
    const known = this.#queueUrls.get(endpointId);
    if (known) return known;
    const view = await this.#deps.control.call("describeEndpoint", { endpointId });
    this.#queueUrls.set(endpointId, view.endpoint.queueUrl);
    return view.endpoint.queueUrl;
  }

  async #listen(queueUrl: string): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let messages: Message[];
      try {
        const out = await this.#deps.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            WaitTimeSeconds: 20,
            MaxNumberOfMessages: 10,
          }),
          { abortSignal: signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (signal.aborted) return;
        this.#deps.logger?.warn(
          { err: error, sessionId: this.sessionId },
          "result poll failed; retrying",
        );
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      for (const m of messages) this.#accept(m.Body ?? "");
      const entries = messages
        .filter((m) => m.ReceiptHandle)
        .map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
      if (entries.length > 0) {
        await this.#deps.sqs
          .send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }), {
            abortSignal: signal,
          })
          .catch((error: unknown) =>
            this.#deps.logger?.warn({ err: error }, "result delete failed"),
          );
      }
    }
  }

  #accept(body: string): void {
    let result: ResultMessage;
    try {
      result = parseJsonWith(ResultMessage, body, "result message");
    } catch (error) {
      this.#deps.logger?.error(
        { err: error, sessionId: this.sessionId },
        "dropped a malformed result",
      );
      return;
    }
    if (this.#seen.has(result.taskId)) return;
    this.#seen.add(result.taskId);
    result.timings.resultReceived = Date.now();
    const waiter = this.#pending.get(result.taskId);
    this.#pending.delete(result.taskId);
    waiter?.resolve(result);
  }

  /** Stop listening; with `closeSession`, delete the session's result queue too. */
  async close(options: { closeSession?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    await this.#listener?.catch(() => undefined);
    for (const { reject } of this.#pending.values()) {
      reject(new FerryError("executor closed before the result arrived"));
    }
    this.#pending.clear();
    if (options.closeSession && this.#session) {
      await this.#deps.control.call("closeSession", { sessionId: this.#session.sessionId });
    }
  }
}
