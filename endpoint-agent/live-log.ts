import type { S3Client } from "@aws-sdk/client-s3";
import { classifyAwsError } from "#core/aws/index.ts";
import type { Logger } from "#core/logger.ts";
import {
  LIVE_TAIL_BYTES,
  type LiveLogRecord,
  type LiveStream,
  PROTOCOL_VERSION,
  type TaskError,
} from "#core/protocol/index.ts";
import { liveLogLocation, writeLiveLog } from "#core/store/index.ts";
import type { OutputSink, OutputStream } from "./run-outcome.ts";
import { Tail } from "./tail.ts";

/** How long the final record may hold a task's result back. */
const FINAL_WRITE_MS = 5_000;

export interface LiveLogOptions {
  s3: S3Client;
  bucket: string;
  /** From liveLogLocation(): the task's owner's part of `tmp/`. */
  key: string;
  taskId: string;
  sessionId: string;
  endpointId: string;
  attempt: number;
  intervalMs: number;
  /** How long end() may take, and so hold the task's result back. @default 5 s */
  finalWriteMs?: number;
  /** The run's signal: every write takes it. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * Publishes a running task's stdout and stderr tails (the last 64 KiB of each) to the store,
 * where `ferry logs --follow` reads them while the task runs.
 *
 * Why the store: it is where an agent already writes for a session's owner (`tmp/<objectOwner>/`),
 * and the client policy already lets only that owner read there, so neither side needs a new
 * permission. The result queue could not carry it (each result message is consumed once, by the
 * session's client), and the control plane would cost a Lambda call per update and pass every
 * task's output through the registry.
 *
 * Off the hot path: nothing is written before the first interval, nor while output is
 * unchanged, so a task that ends within the interval costs no request at all. A task that was
 * published gets one last record when it ends, before its result is sent: a follower that sees
 * the result finds the complete output there, and one that waits on nothing else sees it end.
 */
export class LiveLog implements OutputSink {
  readonly #o: LiveLogOptions;
  // Output is kept as valid UTF-8 (bad sequences become U+FFFD as they stream in), so the byte
  // offsets a record states are those of its own text: a reader slices exactly what is new.
  readonly #streams = {
    stdout: { tail: new Tail(LIVE_TAIL_BYTES), decoder: new TextDecoder("utf-8") },
    stderr: { tail: new Tail(LIVE_TAIL_BYTES), decoder: new TextDecoder("utf-8") },
  };
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #dirty = false;
  #published = false;
  #warned = false;
  #writing: Promise<void> = Promise.resolve();
  /** Aborts a periodic write still in flight when end() gives up waiting for it. */
  readonly #periodic = new AbortController();

  constructor(options: LiveLogOptions) {
    this.#o = options;
  }

  write(stream: OutputStream, chunk: Buffer): void {
    const s = this.#streams[stream];
    const text = s.decoder.decode(chunk, { stream: true });
    if (text.length === 0) return;
    s.tail.push(text);
    this.#dirty = true;
  }

  /** Start the interval; the first write comes after one interval, and only with output. */
  start(): void {
    this.#schedule();
  }

  /** Stop writing (shutdown, release): no final record. Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** The attempt is over: a task that was published gets its final record with the outcome. */
  async end(outcome: { ok: boolean; error?: TaskError }): Promise<void> {
    this.stop();
    // Bounded: a slow store must not hold the result back. Without the final record a
    // follower prints the rest from the result's tails.
    const budget = AbortSignal.any([
      this.#o.signal,
      AbortSignal.timeout(this.#o.finalWriteMs ?? FINAL_WRITE_MS),
    ]);
    if (!(await settledWithin(this.#writing, budget))) {
      // Cut short, so that it cannot land after (over) anything written later.
      this.#periodic.abort();
      return;
    }
    if (!this.#published) return;
    for (const s of Object.values(this.#streams)) {
      const rest = s.decoder.decode();
      if (rest.length > 0) s.tail.push(rest);
    }
    const error = outcome.error
      ? { error: { type: outcome.error.type, message: outcome.error.message } }
      : {};
    await this.#put({ state: "ended", ok: outcome.ok, ...error }, budget);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      if (this.#dirty) {
        const signal = AbortSignal.any([this.#o.signal, this.#periodic.signal]);
        this.#writing = this.#put({ state: "running" }, signal);
      }
      void this.#writing.then(() => this.#schedule());
    }, this.#o.intervalMs);
    // A pending write is no reason to keep the agent alive.
    this.#timer.unref();
  }

  async #put(
    fields: Pick<LiveLogRecord, "state" | "ok" | "error">,
    signal: AbortSignal,
  ): Promise<void> {
    const o = this.#o;
    this.#dirty = false;
    const record: LiveLogRecord = {
      v: PROTOCOL_VERSION,
      taskId: o.taskId,
      sessionId: o.sessionId,
      endpointId: o.endpointId,
      attempt: o.attempt,
      at: Date.now(),
      ...fields,
      stdout: liveStream(this.#streams.stdout.tail),
      stderr: liveStream(this.#streams.stderr.tail),
    };
    try {
      await writeLiveLog({ s3: o.s3, bucket: o.bucket, key: o.key, signal }, record);
      this.#published = true;
    } catch (err) {
      if (classifyAwsError(err) === "aborted") return;
      // Output still unpublished: the next interval tries again. Warn once a task, not each time.
      this.#dirty = true;
      const fields = { err, endpointId: o.endpointId, taskId: o.taskId, key: o.key };
      if (this.#warned) o.logger.debug(fields, "cannot publish the task's live output");
      else o.logger.warn(fields, "cannot publish the task's live output; will retry");
      this.#warned = true;
    }
  }
}

/** Whether `work` settled before `signal` aborted. */
async function settledWithin(work: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true as const), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/** The tail as a record states it: whole UTF-8 characters, and where in the stream it ends. */
export function liveStream(tail: Tail): LiveStream {
  const bytes = tail.bytes();
  // The tail may have been cut inside a character: start at the next whole one.
  let from = 0;
  while (from < Math.min(3, bytes.length) && ((bytes[from] ?? 0) & 0xc0) === 0x80) from++;
  return { text: bytes.subarray(from).toString("utf8"), end: tail.total };
}

export interface LiveLogFor {
  s3: S3Client;
  bucket: string;
  endpointId: string;
  /** Site config `liveLogIntervalSeconds`; 0 turns live logs off. */
  intervalSeconds: number;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * A task's live log, or undefined when it is not published: turned off by the site, or a task
 * without `objectOwner`, whose client could not read it (the client policy grants only
 * `tmp/<its user id>/`).
 */
export function liveLogFor(
  o: LiveLogFor,
  task: { taskId: string; sessionId: string; objectOwner?: string | undefined },
  attempt: number,
): LiveLog | undefined {
  if (o.intervalSeconds === 0 || task.objectOwner === undefined) return undefined;
  let key: string;
  try {
    key = liveLogLocation(task.objectOwner, task.sessionId, task.taskId);
  } catch (err) {
    o.logger.debug({ err, taskId: task.taskId }, "no live log: the owner cannot name a key");
    return undefined;
  }
  return new LiveLog({
    s3: o.s3,
    bucket: o.bucket,
    key,
    taskId: task.taskId,
    sessionId: task.sessionId,
    endpointId: o.endpointId,
    attempt,
    intervalMs: o.intervalSeconds * 1000,
    signal: o.signal,
    logger: o.logger,
  });
}
