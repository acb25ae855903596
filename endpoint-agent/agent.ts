import { hostname } from "node:os";
import type { Message } from "@aws-sdk/client-sqs";
import { sleep } from "#core/backoff.ts";
import { FerryError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import type { SiteConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";
import { agentIdFor, Heartbeat } from "./heartbeat.ts";
import { pollersFor } from "./receive.ts";
import { createRunContext } from "./run-context.ts";
import { SlotPool } from "./slots.ts";
import type { TaskContext } from "./task-context.ts";
import { handleMessage } from "./task-handler.ts";
import { type TaskSource, TaskSources } from "./task-sources.ts";
import { Waiters } from "./waiters.ts";

export { mayHaveBeenCancelled } from "./received.ts";

export type AgentState = "idle" | "starting" | "running" | "draining" | "stopped";

export interface EndpointAgentOptions {
  endpointId: string;
  config: SiteConfig;
  deps: AgentDeps;
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
  /** The queues polled (its own, its groups'), each with its prefetched messages. */
  #sources: TaskSources | undefined;
  /** Wakes the poller when a slot frees or the prefetched queue shrinks. */
  readonly #room = new Waiters();
  #state: AgentState = "idle";
  /** Set for the final heartbeat of a shutdown. */
  #stopping = false;
  /** No receiving ahead of free slots until a task ends (Prefetch's `stalled`). */
  #prefetchPaused = false;
  #closing: Promise<void> | undefined;
  #heartbeat: Heartbeat | undefined;
  /** What the run's tasks share; set once start() built it. */
  #ctx: TaskContext | undefined;
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
  #prefetchRoom(): number {
    return this.#prefetchPaused ? 0 : this.#config.prefetchTasks;
  }

  get prefetched(): number {
    return this.#sources?.prefetched ?? 0;
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
      const ctx = await createRunContext({
        endpointId: this.endpointId,
        config: this.#config,
        deps: this.#deps,
        host: this.#host,
        signal,
        logger: this.#log,
      });
      this.#ctx = ctx;
      this.#heartbeat = this.#newHeartbeat(signal);
      if (this.#closing) {
        // close() came while starting: stop quietly, as if it came just after.
        await this.#shutdown("closed while starting");
        return;
      }
      this.#begin(ctx, this.#heartbeat);
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
    await this.#sources?.stopped();
    this.#sources?.handBackAll();
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
    this.#ctx?.cancellations.stop();
    this.#receiving.abort();
    this.#sources?.handBackAll();
    await this.#ctx?.pool.close();
    // Bounded: each delete tries three times with backoff capped at 2 s.
    await this.#ctx?.results.settled();
    this.#run.abort();
    await this.#ctx?.results.stopped();
    this.#state = "stopped";
    this.#log.info({ reason }, "endpoint agent stopped");
    this.#resolveDone();
  }

  #newHeartbeat(signal: AbortSignal): Heartbeat {
    return new Heartbeat({
      control: this.#deps.control,
      endpointId: this.endpointId,
      agentId: agentIdFor(this.#host, process.pid),
      host: this.#host,
      gpus: this.#config.gpuIds.length,
      intervalMs: this.#config.heartbeatIntervalSeconds * 1000,
      snapshot: () => ({
        slots: { total: this.#slots.total, busy: this.#slots.busy },
        runningTaskIds: this.runningTaskIds,
        state: this.#stopping ? "stopped" : this.#state === "draining" ? "draining" : "running",
      }),
      answered: ({ groups }) => {
        if (this.#ctx && this.#state === "running")
          this.#sources?.serveGroups(this.#ctx, groups ?? []);
      },
      signal,
      logger: this.#log,
    });
  }

  /** Running: heartbeats, the cancellation watcher, the spool's flusher, and the poller. */
  #begin(ctx: TaskContext, heartbeat: Heartbeat): void {
    const signal = this.#run.signal;
    heartbeat.start();
    ctx.cancellations.start();
    ctx.results.startFlusher();
    this.#state = "running";
    const sources = new TaskSources({
      deps: this.#deps,
      config: this.#config,
      runSignal: signal,
      receiving: AbortSignal.any([signal, this.#receiving.signal]),
      room: (prefetched) => this.#slots.free + this.#prefetchRoom() - prefetched,
      waitForRoom: (s) => this.#room.wait(s),
      freeSlots: () => this.#slots.free,
      pollers: pollersFor(this.#slots.total + this.#config.prefetchTasks),
      active: () => this.#state === "running",
      start: (source, message, cancelled, receivedAt) =>
        this.#dispatch(source, message, cancelled, receivedAt),
      changed: () => this.#room.wake(),
      stalled: () => {
        this.#prefetchPaused = true;
      },
      deregistered: () => void this.close("endpoint deregistered"),
      logger: this.#log,
    });
    this.#sources = sources;
    sources.startOwn(ctx);
    this.#log.info(
      { slots: this.#slots.total, gpuIds: this.#config.gpuIds, taskQueueUrl: ctx.taskQueueUrl },
      "endpoint agent running",
    );
  }

  #dispatch(
    source: TaskSource,
    message: Message,
    cancelledAtReceive: Promise<ReadonlySet<string>>,
    receivedAt: number,
  ): void {
    const slot = this.#slots.tryAcquire();
    if (!slot || this.#state !== "running") {
      // Received while draining (or over capacity): hand it straight back.
      if (slot) this.#slots.release(slot);
      source.prefetch.handBack(message);
      return;
    }
    const { ctx } = source;
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
        // A task ended: slots turn over, so receiving ahead pays again.
        this.#prefetchPaused = false;
        if (this.#state === "running") this.#sources?.run();
        else this.#room.wake();
      });
    this.#inFlight.set(key, flight);
  }
}
