import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { isQueueMissing } from "#core/aws/errors.ts";
import { SqsBatchers } from "#core/aws/sqs-batchers.ts";
import { backoffDelayMs, sleep } from "#core/backoff.ts";
import { FerryError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import { createStores } from "#core/store/index.ts";
import { CancellationWatcher, type TaskKey } from "./cancellation.ts";
import type { SiteConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";
import { FunctionCache } from "./function-cache.ts";
import { agentIdFor, Heartbeat } from "./heartbeat.ts";
import { NodeWorkerPool } from "./node-pool.ts";
import { isDeregistered, readMaxReceiveCount, resolveTaskQueueUrl } from "./queue.ts";
import { ResultDelivery } from "./result-delivery.ts";
import { SlotPool } from "./slots.ts";
import { ResultSpool } from "./spool.ts";
import type { TaskContext } from "./task-context.ts";
import { handleMessage } from "./task-handler.ts";
import { TaskProcesses } from "./task-processes.ts";
import { RECEIVE_VISIBILITY_SECONDS } from "./visibility.ts";
import { Waiters } from "./waiters.ts";

/** SQS receives at most 10 messages per call. */
const MAX_RECEIVE_BATCH = 10;

export type AgentState = "idle" | "starting" | "running" | "draining" | "stopped";

export interface EndpointAgentOptions {
  endpointId: string;
  config: SiteConfig;
  deps: AgentDeps;
}

interface Ahead {
  message: Message;
  cancelled: Promise<ReadonlySet<string>>;
  receivedAt: number;
  /** When its batch's cancellation check answered; unset while it is pending. */
  checkedAt: number | undefined;
}

interface InFlight {
  taskId: string | undefined;
  release: AbortController;
  done: Promise<void>;
}

/**
 * The site daemon for one endpoint: long-polls the endpoint's task queue for as many messages
 * as it has free slots, runs each task, and delivers its result before deleting the message.
 */
export class EndpointAgent {
  readonly endpointId: string;
  readonly #config: SiteConfig;
  readonly #deps: AgentDeps;
  readonly #log: Logger;
  readonly #slots: SlotPool;
  readonly #host = hostname();
  /** Aborted at the very end of the run: every SDK call of this run takes its signal. */
  readonly #run = new AbortController();
  /** Aborted when draining starts: stops the long poll without cancelling result sends. */
  readonly #receiving = new AbortController();
  readonly #inFlight = new Map<string, InFlight>();
  /** Messages received ahead of free slots (prefetchTasks), oldest first. */
  readonly #ahead: Ahead[] = [];
  /** Wakes the poller when a slot frees or the prefetched queue shrinks. */
  readonly #room = new Waiters();
  #aheadTimer: NodeJS.Timeout | undefined;
  #ctx: TaskContext | undefined;
  #state: AgentState = "idle";
  /** Set for the final heartbeat of a shutdown. */
  #stopping = false;
  #pollLoop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #heartbeat: Heartbeat | undefined;
  #pool: NodeWorkerPool | undefined;
  #results: ResultDelivery | undefined;
  #cancellations: CancellationWatcher | undefined;
  #resolveDone: () => void = () => {};
  readonly done: Promise<void>;

  constructor(options: EndpointAgentOptions) {
    this.endpointId = options.endpointId;
    this.#config = options.config;
    this.#deps = options.deps;
    this.#log = options.deps.logger.child({ endpointId: options.endpointId });
    this.#slots = new SlotPool(options.config);
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  get state(): AgentState {
    return this.#state;
  }

  /** Messages received ahead of free slots, waiting for one. */
  get prefetched(): number {
    return this.#ahead.length;
  }

  /** Ids of the tasks running now. */
  get runningTaskIds(): string[] {
    return [...this.#inFlight.values()].flatMap((f) => (f.taskId ? [f.taskId] : []));
  }

  /** Resolve the queue, start heartbeats and the poller. Throws (and stops) if it cannot. */
  async start(): Promise<void> {
    if (this.#state !== "idle") throw new FerryError(`agent already ${this.#state}`);
    this.#state = "starting";
    const signal = this.#run.signal;
    try {
      const taskQueueUrl = await resolveTaskQueueUrl({
        sqs: this.#deps.sqs,
        control: this.#deps.control,
        queuePrefix: this.#deps.queuePrefix,
        endpointId: this.endpointId,
        signal,
        logger: this.#log,
      });
      const maxReceiveCount = await readMaxReceiveCount(this.#deps.sqs, taskQueueUrl, signal);
      await Promise.all(
        [this.#config.scratchDir, this.#config.cacheDir].map((d) => mkdir(d, { recursive: true })),
      );
      const pool = new NodeWorkerPool({
        maxIdle: this.#config.maxIdleWorkers,
        killGraceMs: this.#config.killGraceSeconds * 1000,
        scratchRoot: this.#config.scratchDir,
        endpointId: this.endpointId,
        passEnv: this.#config.passEnv,
        logger: this.#log,
      });
      const batchers = new SqsBatchers({ sqs: this.#deps.sqs, signal });
      const results = new ResultDelivery({
        sqs: this.#deps.sqs,
        batchers,
        spool: new ResultSpool(join(this.#config.spoolDir, this.endpointId)),
        consistencyWindowMs: this.#config.replyRefusalWindowSeconds * 1000,
        park: async (result, reason, parkSignal) => {
          await this.#deps.control.call("parkResult", { result, reason }, { signal: parkSignal });
        },
        signal,
        logger: this.#log,
      });
      const cancellations = new CancellationWatcher({
        control: this.#deps.control,
        intervalMs: this.#config.cancelPollIntervalSeconds * 1000,
        signal,
        logger: this.#log,
      });
      // Processes a killed predecessor on this host left running: they would compete with
      // their tasks' second attempts for the whole walltime.
      const processes = new TaskProcesses(
        join(this.#config.spoolDir, `${this.endpointId}-processes`),
      );
      const reaped = await processes.reapOrphans(this.#log);
      if (reaped > 0) this.#log.warn({ reaped }, "stopped orphaned task process groups");
      this.#pool = pool;
      this.#results = results;
      this.#cancellations = cancellations;
      const ctx: TaskContext = {
        endpointId: this.endpointId,
        config: this.#config,
        deps: this.#deps,
        taskQueueUrl,
        maxReceiveCount,
        functions: new FunctionCache({
          control: this.#deps.control,
          s3: this.#deps.s3,
          bucket: this.#deps.bucket,
          cacheDir: this.#config.cacheDir,
        }),
        pool,
        results,
        batchers,
        cancellations,
        processes,
        stores: createStores({
          s3: { client: this.#deps.s3, bucket: this.#deps.bucket },
          policies: this.#config.storePolicies,
          ...(this.#config.storeFileDir ? { fileDir: this.#config.storeFileDir } : {}),
        }),
        host: this.#host,
        runSignal: signal,
        logger: this.#log,
      };
      this.#heartbeat = new Heartbeat({
        control: this.#deps.control,
        endpointId: this.endpointId,
        agentId: agentIdFor(this.#host, process.pid),
        host: this.#host,
        intervalMs: this.#config.heartbeatIntervalSeconds * 1000,
        snapshot: () => ({
          slots: { total: this.#slots.total, busy: this.#slots.busy },
          runningTaskIds: this.runningTaskIds,
          state: this.#stopping ? "stopped" : this.#state === "draining" ? "draining" : "running",
        }),
        signal,
        logger: this.#log,
      });
      if (this.#closing) {
        // close() came while starting: stop quietly, as if it came just after.
        await this.#shutdown("closed while starting");
        return;
      }
      this.#heartbeat.start();
      cancellations.start();
      results.startFlusher();
      this.#state = "running";
      this.#ctx = ctx;
      this.#pollLoop = this.#poll(ctx);
      this.#log.info(
        { slots: this.#slots.total, gpuIds: this.#config.gpuIds, taskQueueUrl },
        "endpoint agent running",
      );
    } catch (err) {
      await this.#shutdown("start failed");
      throw err;
    }
  }

  /**
   * Drain and stop: no more receives; running tasks get shutdownGraceSeconds to finish, the
   * rest are stopped and their messages released (visibility 0) for another agent.
   * Idempotent: every call returns the same promise.
   */
  close(reason = "closed"): Promise<void> {
    this.#closing ??= this.#drain(reason);
    return this.#closing;
  }

  async #drain(reason: string): Promise<void> {
    if (this.#state === "idle" || this.#state === "stopped") {
      await this.#shutdown(reason);
      return;
    }
    if (this.#state === "starting") {
      // start() notices #closing and shuts down itself.
      await this.done;
      return;
    }
    this.#state = "draining";
    this.#log.info({ reason, running: this.#inFlight.size }, "draining");
    // Said at once: status shows draining, and clients warn that no agent will take new tasks.
    void this.#heartbeat?.beat();
    this.#receiving.abort();
    await this.#pollLoop;
    this.#handBackAhead();
    const graceMs = this.#config.shutdownGraceSeconds * 1000;
    const allDone = Promise.all([...this.#inFlight.values()].map((f) => f.done));
    const graceTimer = new AbortController();
    const finished = await Promise.race([
      allDone.then(() => true),
      sleep(graceMs, graceTimer.signal).then(() => false),
    ]).finally(() => graceTimer.abort());
    if (!finished) {
      this.#log.warn(
        { running: this.runningTaskIds },
        "grace period over: releasing running tasks",
      );
      for (const f of this.#inFlight.values()) f.release.abort();
      await Promise.all([...this.#inFlight.values()].map((f) => f.done));
    }
    await this.#shutdown(reason);
  }

  async #shutdown(reason: string): Promise<void> {
    if (this.#state === "stopped") return;
    this.#heartbeat?.stop();
    // The last word, bounded: the endpoint shows offline now, not after 90 s of silence.
    if (this.#heartbeat && this.#state !== "idle") {
      this.#stopping = true;
      await Promise.race([this.#heartbeat.beat(), sleep(2_000, this.#run.signal)]);
    }
    this.#cancellations?.stop();
    this.#receiving.abort();
    this.#handBackAhead();
    await this.#pool?.close();
    // Bounded: each delete tries three times with backoff capped at 2 s.
    await this.#results?.settled();
    this.#run.abort();
    await this.#results?.stopped();
    this.#state = "stopped";
    this.#log.info({ reason }, "endpoint agent stopped");
    this.#resolveDone();
  }

  async #poll(ctx: TaskContext): Promise<void> {
    const signal = AbortSignal.any([this.#run.signal, this.#receiving.signal]);
    let failures = 0;
    while (!signal.aborted) {
      const room = this.#slots.free + this.#config.prefetchTasks - this.#ahead.length;
      if (room <= 0) {
        await this.#room.wait(signal);
        continue;
      }
      let messages: Message[];
      try {
        const out = await this.#deps.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: ctx.taskQueueUrl,
            MaxNumberOfMessages: Math.min(room, MAX_RECEIVE_BATCH),
            WaitTimeSeconds: this.#config.pollWaitSeconds,
            VisibilityTimeout: Math.min(
              this.#config.visibilityTimeoutSeconds,
              RECEIVE_VISIBILITY_SECONDS,
            ),
            MessageSystemAttributeNames: [
              "ApproximateReceiveCount",
              "SentTimestamp",
              "ApproximateFirstReceiveTimestamp",
            ],
          }),
          { abortSignal: signal },
        );
        messages = out.Messages ?? [];
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        if (isQueueMissing(err) && (await isDeregistered(this.#deps.control, this.endpointId))) {
          // Deregistered under us: nothing more will come; finish what runs and stop.
          this.#log.error({ err }, "the endpoint was deregistered and its queue deleted: stopping");
          void this.close("endpoint deregistered");
          break;
        }
        // Anything else, a missing queue of a registered endpoint included (AWS answers so
        // for a while after CreateQueue), passes: back off and poll again.
        const delayMs = backoffDelayMs(failures++, { baseMs: 1_000, capMs: 30_000 });
        this.#log.warn({ err, retryInMs: delayMs }, "cannot receive tasks; retrying");
        await sleep(delayMs, signal);
        continue;
      }
      if (messages.length === 0) continue;
      // One check for the whole batch, not awaited here: each task waits for it before it
      // starts, while the poller goes on. Messages that reached us fresh are not checked: see
      // mayHaveBeenCancelled.
      const ids = messages.filter(mayHaveBeenCancelled).flatMap((m) => peekTask(m.Body) ?? []);
      const cancelled = ids.length > 0 ? ctx.cancellations.check(ids) : Promise.resolve(NONE);
      const receivedAt = Date.now();
      const batch: Ahead[] = messages.map((message) => ({
        message,
        cancelled,
        receivedAt,
        checkedAt: ids.length > 0 ? undefined : receivedAt,
      }));
      this.#ahead.push(...batch);
      // A message takes a slot only once its check answered: a slot waiting on the control
      // plane is a slot not running anything (that wait capped throughput at ~150 tasks/s).
      if (ids.length > 0) {
        void cancelled.then(() => {
          const at = Date.now();
          for (const a of batch) a.checkedAt = at;
          if (this.#state === "running") this.#runAhead(ctx);
        });
      }
      this.#runAhead(ctx);
    }
  }

  /**
   * Start received messages whose cancellation check answered on free slots, oldest first.
   * One that waited past half its receive visibility goes back to the queue instead (another
   * agent may be idle); one that waited over a second since its check is checked again.
   */
  #runAhead(ctx: TaskContext): void {
    const now = Date.now();
    for (let i = 0; i < this.#ahead.length; ) {
      const next = this.#ahead[i];
      if (!next) break;
      if (now - next.receivedAt > AHEAD_MAX_WAIT_MS) {
        this.#ahead.splice(i, 1);
        this.#handBack(ctx, next.message);
        continue;
      }
      if (next.checkedAt === undefined || this.#slots.free === 0) {
        i++;
        continue;
      }
      this.#ahead.splice(i, 1);
      const stale = now - next.checkedAt >= FRESH_MESSAGE_MS;
      const id = stale ? peekTask(next.message.Body) : undefined;
      const cancelled = id ? ctx.cancellations.check([id]) : next.cancelled;
      this.#dispatch(ctx, next.message, cancelled, next.receivedAt);
    }
    clearTimeout(this.#aheadTimer);
    this.#aheadTimer = undefined;
    if (this.#ahead.length > 0) {
      // Slots may stay busy for hours: hand back what waits too long even then.
      this.#aheadTimer = setTimeout(() => this.#runAhead(ctx), 1_000);
      this.#aheadTimer.unref();
    }
    this.#room.wake();
  }

  /** Make a received message visible again at once, for any agent. */
  #handBack(ctx: TaskContext, message: Message): void {
    void this.#deps.sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: ctx.taskQueueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
        { abortSignal: this.#run.signal },
      )
      .catch(() => {});
  }

  /** Give every prefetched message back (draining). */
  #handBackAhead(): void {
    clearTimeout(this.#aheadTimer);
    this.#aheadTimer = undefined;
    const ctx = this.#ctx;
    for (const a of this.#ahead.splice(0)) if (ctx) this.#handBack(ctx, a.message);
    this.#room.wake();
  }

  #dispatch(
    ctx: TaskContext,
    message: Message,
    cancelledAtReceive: Promise<ReadonlySet<string>>,
    receivedAt: number,
  ): void {
    const slot = this.#slots.tryAcquire();
    if (!slot || this.#state !== "running") {
      // Received while draining (or over capacity): hand it straight back.
      if (slot) this.#slots.release(slot);
      this.#handBack(ctx, message);
      return;
    }
    const key = message.MessageId ?? message.ReceiptHandle ?? String(Math.random());
    const release = new AbortController();
    const flight: InFlight = { taskId: undefined, release, done: Promise.resolve() };
    flight.done = handleMessage(ctx, {
      message,
      slot,
      release: release.signal,
      onTaskId: (taskId) => {
        flight.taskId = taskId;
        // Running within a second in `ferry tasks`, not at the next 30 s heartbeat.
        this.#heartbeat?.soon();
      },
      cancelledAtReceive,
      receivedAt,
    })
      .catch((err: unknown) => this.#log.error({ err }, "task handler failed"))
      .finally(() => {
        this.#inFlight.delete(key);
        this.#slots.release(slot);
        if (this.#state === "running") this.#runAhead(ctx);
        else this.#room.wake();
      });
    this.#inFlight.set(key, flight);
  }
}

const NONE: ReadonlySet<string> = new Set();

/**
 * A message received for the first time less than this long after it was sent skips the
 * check before it starts: that check is a control-plane round trip, a third of a short task's
 * latency, and the client had next to no time to cancel. Such a task is still checked while it
 * runs (every cancelPollIntervalSeconds) and stopped if it was cancelled.
 */
const FRESH_MESSAGE_MS = 1_000;

/** A prefetched message not started within half its receive visibility goes back. */
const AHEAD_MAX_WAIT_MS = (RECEIVE_VISIBILITY_SECONDS * 1000) / 2;

/** Whether a cancel may have come before this message was received (it waited, or came back). */
export function mayHaveBeenCancelled(message: Message): boolean {
  const a = message.Attributes ?? {};
  const receives = Number(a.ApproximateReceiveCount ?? "1");
  // Both stamps are the queue service's clock: no skew with the client or this host.
  const waitedMs = Number(a.ApproximateFirstReceiveTimestamp) - Number(a.SentTimestamp);
  if (receives > 1 || !Number.isFinite(waitedMs)) return true;
  return waitedMs >= FRESH_MESSAGE_MS;
}

/** The task and session ids of a message body, if it has them; validation comes later. */
function peekTask(body: string | undefined): TaskKey | undefined {
  try {
    const raw = JSON.parse(body ?? "") as { taskId?: unknown; sessionId?: unknown } | null;
    const { taskId, sessionId } = raw ?? {};
    return typeof taskId === "string" && typeof sessionId === "string"
      ? { taskId, sessionId }
      : undefined;
  } catch {
    return undefined;
  }
}
