import type { Message } from "@aws-sdk/client-sqs";
import type { Logger } from "#core/logger.ts";
import type { GroupMembership } from "#core/protocol/index.ts";
import type { SiteConfig } from "./config.ts";
import type { AgentDeps } from "./deps.ts";
import { Prefetch } from "./prefetch.ts";
import { receiveLoop } from "./receive.ts";
import type { TaskContext } from "./task-context.ts";

/** One queue the agent takes tasks from: its endpoint's own, or a group's it serves. */
export interface TaskSource {
  ctx: TaskContext;
  prefetch: Prefetch;
  loop: Promise<void>;
  /** Stops this queue's polls only (the endpoint left the group). */
  stop: AbortController;
}

export interface TaskSourcesOptions {
  deps: AgentDeps;
  config: SiteConfig;
  /** The run's signal: hand-backs and prefetch checks take it. */
  runSignal: AbortSignal;
  /** Aborted when draining starts: every queue's polls stop. */
  receiving: AbortSignal;
  /** Room for messages across every queue: free slots plus prefetch room. */
  room(prefetched: number): number;
  waitForRoom(signal: AbortSignal): Promise<void>;
  freeSlots(): number;
  /** Long polls in flight per queue, most. */
  pollers: number;
  active(): boolean;
  start(
    source: TaskSource,
    message: Message,
    cancelled: Promise<ReadonlySet<string>>,
    receivedAt: number,
  ): void;
  changed(): void;
  stalled(): void;
  deregistered(): void;
  logger: Logger;
}

/**
 * The queues one agent polls: its endpoint's queue and one per group the endpoint serves
 * (learnt from heartbeat answers). One slot pool and one room count cover them all, but each
 * queue's long polls claim room on their own: polls sharing one claim count starved the group
 * queues (a 20 s poll of the endpoint's own queue held all the room, and took it again as it
 * returned empty). So an agent may receive up to once per queue more than it has room for;
 * the extra waits in its queue's Prefetch and goes back after half its receive visibility.
 */
export class TaskSources {
  readonly #o: TaskSourcesOptions;
  readonly #sources = new Map<string, TaskSource>();

  constructor(options: TaskSourcesOptions) {
    this.#o = options;
  }

  /** Messages received ahead of free slots, over every queue. */
  get prefetched(): number {
    let n = 0;
    for (const s of this.#sources.values()) n += s.prefetch.length;
    return n;
  }

  /** The groups whose queues are polled now. */
  get groups(): string[] {
    return [...this.#sources.values()].flatMap((s) => (s.ctx.group ? [s.ctx.group.name] : []));
  }

  /** Poll the endpoint's own queue. */
  startOwn(ctx: TaskContext): void {
    this.#add("own", ctx);
  }

  /** Poll the queues of the groups listed, stop polling those no longer listed. */
  serveGroups(own: TaskContext, groups: readonly GroupMembership[]): void {
    if (!this.#o.active()) return;
    const listed = new Set(groups.map((g) => g.groupId));
    for (const [key, source] of this.#sources) {
      if (key === "own" || listed.has(key)) continue;
      this.#o.logger.info({ group: source.ctx.group?.name }, "left group: stop polling its queue");
      source.stop.abort();
      source.prefetch.handBackAll();
      this.#sources.delete(key);
    }
    for (const group of groups) {
      const current = this.#sources.get(group.groupId);
      // A changed member count only changes when a task counts as passed by everyone.
      if (current?.ctx.group) current.ctx.group = group;
      if (current) continue;
      this.#o.logger.info({ group: group.name, queueUrl: group.queueUrl }, "polling group queue");
      this.#add(group.groupId, { ...own, taskQueueUrl: group.queueUrl, group: { ...group } });
    }
  }

  /** Start what prefetched messages can start, on every queue. */
  run(): void {
    for (const s of this.#sources.values()) s.prefetch.run();
  }

  handBackAll(): void {
    for (const s of this.#sources.values()) s.prefetch.handBackAll();
  }

  /** Every queue's polls have stopped. */
  async stopped(): Promise<void> {
    await Promise.all([...this.#sources.values()].map((s) => s.loop));
  }

  #add(key: string, ctx: TaskContext): void {
    const o = this.#o;
    const stop = new AbortController();
    const prefetch = new Prefetch({
      sqs: o.deps.sqs,
      queueUrl: ctx.taskQueueUrl,
      signal: o.runSignal,
      cancellations: ctx.cancellations,
      freeSlots: o.freeSlots,
      active: o.active,
      start: (message, cancelled, receivedAt) => o.start(source, message, cancelled, receivedAt),
      changed: o.changed,
      stalled: o.stalled,
    });
    const source: TaskSource = { ctx, prefetch, loop: Promise.resolve(), stop };
    const room = () => o.room(this.prefetched);
    source.loop = receiveLoop(
      {
        deps: o.deps,
        endpointId: ctx.endpointId,
        queueUrl: ctx.taskQueueUrl,
        config: o.config,
        signal: AbortSignal.any([o.receiving, stop.signal]),
        room,
        waitForRoom: o.waitForRoom,
        received: (messages) => prefetch.add(messages),
        // Only the endpoint's own queue says the endpoint is gone; a group's may just be.
        deregistered: key === "own" ? o.deregistered : () => {},
        logger: ctx.group ? o.logger.child({ group: ctx.group.name }) : o.logger,
      },
      o.pollers,
    );
    this.#sources.set(key, source);
  }
}
