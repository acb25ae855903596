import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { ErrorReply } from "./errors.ts";
import { call, type Upstream } from "./forward.ts";
import { endToEndHeaders } from "./io.ts";

/**
 * DeleteQueues the proxy has accepted but not yet sent upstream, so that the queue keeps
 * working for a while after its deletion, as AWS warns it may ("requests you send involving
 * that queue during the 60 seconds might succeed").
 */
export class DeferredDeletes {
  readonly #pending = new Map<string, { timer: NodeJS.Timeout; run: () => Promise<void> }>();
  readonly #running = new Set<Promise<void>>();

  has(name: string): boolean {
    return this.#pending.has(name);
  }

  schedule(name: string, delayMs: number, run: () => Promise<void>): void {
    const timer = setTimeout(() => this.#start(name), delayMs);
    // Close flushes what is left; a pending delete must not keep a test process alive.
    timer.unref();
    this.#pending.set(name, { timer, run });
  }

  /** Sends every pending delete now: the emulator ends as AWS would after the window. */
  async flush(): Promise<void> {
    for (const name of [...this.#pending.keys()]) this.#start(name);
    await Promise.allSettled([...this.#running]);
  }

  #start(name: string): void {
    const entry = this.#pending.get(name);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#pending.delete(name);
    const running = entry.run().catch(() => {});
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
  }
}

/**
 * What AWS answers a DeleteQueue it accepts for later: 200 with an empty JSON object if the
 * queue exists (checked upstream with GetQueueAttributes), else upstream's own error.
 */
export async function acceptDelete(
  upstream: Upstream,
  req: IncomingMessage,
  queueUrl: string,
): Promise<ErrorReply> {
  const headers = endToEndHeaders(req.headers);
  headers["x-amz-target"] = "AmazonSQS.GetQueueAttributes";
  const probe = Buffer.from(JSON.stringify({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const answer = await call(upstream, "POST", req.url ?? "/", headers, probe);
  if (answer.status !== 200) {
    const replyHeaders = endToEndHeaders(answer.headers) as Record<string, string>;
    delete replyHeaders["content-length"];
    return { status: answer.status, headers: replyHeaders, body: answer.body.toString("utf8") };
  }
  return {
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": randomUUID() },
    body: "{}",
  };
}

/** The client's own DeleteQueue, replayed upstream when the linger ends. */
export function replayDelete(
  upstream: Upstream,
  req: IncomingMessage,
  body: Buffer,
): () => Promise<void> {
  const headers = endToEndHeaders(req.headers);
  const method = req.method ?? "POST";
  const path = req.url ?? "/";
  return async () => {
    await call(upstream, method, path, headers, body);
  };
}
