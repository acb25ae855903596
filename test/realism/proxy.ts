import {
  Agent,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { type ErrorReply, serverErrorReply, sqsErrors, throttleReply } from "./errors.ts";
import {
  type FaultKind,
  isTargeted,
  mergeFaults,
  type RealismFaults,
  type RealismService,
  validateFaults,
} from "./faults.ts";
import { forward, type Upstream } from "./forward.ts";
import { parseJson, readBody, sleep } from "./io.ts";
import { acceptDelete, DeferredDeletes, replayDelete } from "./linger.ts";
import { operationOf, sqsQueueName } from "./operations.ts";
import { QueueWindows } from "./queue-windows.ts";
import { drawForRequest, mulberry32, type RequestDraws } from "./rng.ts";
import {
  emptyStats,
  type RealismStats,
  recordInjection,
  recordLatency,
  recordRequest,
  snapshot,
} from "./stats.ts";

export interface RealismProxyOptions {
  service: RealismService;
  /** The emulator, e.g. "http://127.0.0.1:4566". */
  upstream: string;
  faults?: RealismFaults;
  /** Seeds every random choice: the same seed and the same calls give the same faults. */
  seed?: number;
}

/** One injected fault, in arrival order of the requests (`seq` counts every request). */
export interface Injection {
  seq: number;
  operation: string;
  fault: Exclude<FaultKind, "latency">;
}

/** What a request carries that the decisions need, parsed once. */
interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  seq: number;
  operation: string;
  draws: RequestDraws;
  /** The settings when the request arrived: a setFaults mid-call does not change its fate. */
  faults: RealismFaults;
  /** Whole body, for SQS and Lambda only: S3 objects stream through untouched. */
  body: Buffer | undefined;
  queue: string | undefined;
  queueUrl: string | undefined;
}

/** Kept so a long run cannot grow the journal without bound. */
const MAX_JOURNAL = 10_000;

/**
 * An HTTP proxy in front of one emulator service that answers as AWS does on a bad day:
 * latency, the service's own throttling and 5xx answers, connection resets before and after
 * the call, and SQS's documented queue-creation and deletion windows.
 */
export class RealismProxy {
  readonly service: RealismService;
  readonly #upstream: Upstream;
  #faults: RealismFaults;
  /** Per-request fault draws; the linger lengths draw from their own stream. */
  readonly #draw: () => number;
  readonly #lingerDraw: () => number;
  readonly #stats = emptyStats();
  readonly #journal: Injection[] = [];
  readonly #windows = new QueueWindows();
  readonly #deletes = new DeferredDeletes();
  #server: Server | undefined;
  #closing: Promise<void> | undefined;
  #seq = 0;
  port = 0;

  constructor(options: RealismProxyOptions) {
    this.service = options.service;
    this.#upstream = {
      url: new URL(options.upstream),
      agent: new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY }),
    };
    this.#faults = { ...options.faults };
    validateFaults(this.#faults);
    const seed = options.seed ?? 1;
    this.#draw = mulberry32(seed);
    this.#lingerDraw = mulberry32(seed ^ 0x9e3779b9);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A copy of the counters: per fault kind, per operation, and the latency added. */
  get stats(): RealismStats {
    return snapshot(this.#stats);
  }

  /** Every injected fault so far (latency aside), oldest first: for replay checks. */
  get injections(): readonly Injection[] {
    return [...this.#journal];
  }

  get faults(): RealismFaults {
    return { ...this.#faults };
  }

  /** Changes settings from the next request on, e.g. `{ throttleRate: 0 }` for a calm phase. */
  setFaults(change: Partial<RealismFaults>): void {
    const next = mergeFaults(this.#faults, change);
    validateFaults(next);
    this.#faults = next;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => this.#onRequest(req, res));
    // AWS keeps idle connections far longer than Node's 5 s default; a server closing them
    // under the SDK's keep-alive pool would add resets nobody configured.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.on("clientError", (_err, socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening, drops open connections, sends deferred deletes. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const server = this.#server;
    const closed = new Promise<void>((resolve) =>
      server ? server.close(() => resolve()) : resolve(),
    );
    server?.closeAllConnections();
    await this.#deletes.flush();
    this.#upstream.agent.destroy();
    await closed;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    // Drawn at arrival, before any await: the sequence follows the order requests arrive in.
    const seq = this.#seq++;
    const draws = drawForRequest(this.#draw);
    const operation = operationOf(this.service, req);
    recordRequest(this.#stats, operation);
    const arrival = { req, res, seq, operation, draws, faults: this.#faults };
    this.#handle(arrival).catch(() => req.socket.destroy());
  }

  async #handle(arrival: Omit<Call, "body" | "queue" | "queueUrl">): Promise<void> {
    const { req, res, operation, draws, faults } = arrival;
    const body = this.service === "s3" ? undefined : await readBody(req);
    const parsed = this.service === "sqs" ? parseJson(body) : undefined;
    const queueUrl = (parsed as { QueueUrl?: unknown } | undefined)?.QueueUrl;
    const call: Call = {
      ...arrival,
      body,
      queue: sqsQueueName(parsed),
      queueUrl: typeof queueUrl === "string" ? queueUrl : undefined,
    };
    const targeted = isTargeted(faults, operation);
    if (targeted) await this.#delay(call);
    if (this.#closing || req.socket.destroyed) return;
    if (this.#answerByRule(call)) return;
    if (targeted && this.#injectRandom(call)) return;
    if (this.#lingers(call)) return this.#deleteLater(call);
    const resetAfter = targeted && draws.resetAfter < (faults.resetAfterRate ?? 0);
    const status = await forward(this.#upstream, req, res, body, resetAfter);
    if (resetAfter && status !== undefined) this.#record(call, "resetAfter");
    if (this.service === "sqs" && status !== undefined && status >= 200 && status < 300) {
      this.#windows.succeeded(operation, call.queue, Date.now());
    }
  }

  /** Adds this call's latency; operations in minLatencyOnly pay only the minimum. */
  async #delay(call: Call): Promise<void> {
    const range = call.faults.latencyMs;
    if (!range) return;
    const fixed = call.faults.minLatencyOnly?.includes(call.operation) ?? false;
    const ms = fixed ? range.min : range.min + call.draws.latency * (range.max - range.min);
    if (ms <= 0) return;
    recordLatency(this.#stats, call.operation, ms);
    await sleep(ms);
  }

  /** SQS's queue windows: AWS rules, applied whatever `only` / `except` say. */
  #answerByRule(call: Call): boolean {
    if (this.service !== "sqs") return false;
    const rule = this.#windows.check(call.faults, call.operation, call.queue, Date.now());
    if (!rule) return false;
    const reply =
      rule === "queueDeletedRecently"
        ? sqsErrors.queueDeletedRecently()
        : sqsErrors.queueDoesNotExist();
    this.#answer(call, rule, reply);
    return true;
  }

  /** Throttle, 5xx or reset-before, at most one, checked in that order. */
  #injectRandom(call: Call): boolean {
    const { draws, faults } = call;
    const head = call.req.method === "HEAD";
    if (draws.throttle < (faults.throttleRate ?? 0)) {
      this.#answer(call, "throttle", throttleReply(this.service, head));
    } else if (draws.serverError < (faults.serverErrorRate ?? 0)) {
      this.#answer(
        call,
        "serverError",
        serverErrorReply(this.service, head, draws.serverErrorKind),
      );
    } else if (draws.resetBefore < (faults.resetBeforeRate ?? 0)) {
      this.#record(call, "resetBefore");
      call.req.socket.destroy();
    } else {
      return false;
    }
    return true;
  }

  #lingers(call: Call): boolean {
    return (
      this.service === "sqs" &&
      call.operation === "DeleteQueue" &&
      call.faults.deletedQueueLingers === true &&
      (call.faults.deletedQueueWindowMs ?? 0) > 0 &&
      call.queue !== undefined &&
      call.queueUrl !== undefined
    );
  }

  /** Accepts a DeleteQueue now and sends it upstream after a seeded part of the window. */
  async #deleteLater(call: Call): Promise<void> {
    const queue = call.queue as string;
    const reply = await acceptDelete(this.#upstream, call.req, call.queueUrl as string);
    if (reply.status === 200 && !this.#deletes.has(queue)) {
      const window = call.faults.deletedQueueWindowMs ?? 0;
      const lingerMs = Math.floor(this.#lingerDraw() * window);
      const body = call.body ?? Buffer.alloc(0);
      this.#deletes.schedule(queue, lingerMs, replayDelete(this.#upstream, call.req, body));
      this.#windows.succeeded("DeleteQueue", queue, Date.now());
      this.#record(call, "deletedQueueLinger");
    }
    this.#send(call, reply);
  }

  /** Records and sends an answer the upstream never saw. */
  #answer(call: Call, kind: Injection["fault"], reply: ErrorReply): void {
    this.#record(call, kind);
    this.#send(call, reply);
  }

  #send({ req, res }: Call, reply: ErrorReply): void {
    // An S3 body still arriving is read and dropped, so the connection stays usable.
    req.resume();
    const length = Buffer.byteLength(reply.body);
    res.writeHead(reply.status, { ...reply.headers, "content-length": length });
    res.end(req.method === "HEAD" ? undefined : reply.body);
  }

  #record(call: Call, kind: Injection["fault"]): void {
    recordInjection(this.#stats, call.operation, kind);
    if (this.#journal.length < MAX_JOURNAL) {
      this.#journal.push({ seq: call.seq, operation: call.operation, fault: kind });
    }
  }
}
