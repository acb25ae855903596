// Counts the AWS requests a process makes, by service and action, at the SDK client: one
// middleware on each client's stack sees every attempt (retries included, as AWS bills them).
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";
import type { AwsClients } from "./client-config.ts";

/** SQS bills each 64 KiB chunk of a request's payload as one request. */
export const SQS_CHUNK_BYTES = 65_536;

export const MeteredService = z.enum(["sqs", "s3", "lambda"]);
export type MeteredService = z.infer<typeof MeteredService>;

/** One action's counts: attempts, billed requests, bytes each way, time waited. */
export const RequestCounter = z.object({
  /** HTTP attempts (a retried call counts once per attempt). */
  calls: z.number().int().nonnegative(),
  /** Requests as billed: SQS counts 64 KiB payload chunks; other services one per attempt. */
  billed: z.number().int().nonnegative(),
  /** Attempts answered with an error status, or none. */
  failed: z.number().int().nonnegative(),
  /** Request body bytes sent to AWS. */
  bytesOut: z.number().nonnegative(),
  /** Response body bytes received from AWS (what AWS bills as data transfer out). */
  bytesIn: z.number().nonnegative(),
  /** Wall time from sending to the answer, summed over attempts. */
  durationMs: z.number().nonnegative(),
});
export type RequestCounter = z.infer<typeof RequestCounter>;

/** A meter's counts, by service and action (`SendMessageBatch`, `GetObject`, `Invoke`). */
export const RequestTally = z.object({
  v: z.literal(1),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  services: z.partialRecord(MeteredService, z.record(z.string(), RequestCounter)),
});
export type RequestTally = z.infer<typeof RequestTally>;

/** What one attempt adds to its action's counter. */
export interface RequestSample {
  billed: number;
  failed: boolean;
  bytesOut: number;
  bytesIn: number;
  durationMs: number;
}

type MeterableClient = SQSClient | S3Client | LambdaClient;

/** The meter attached to a client: the control plane's function-URL posts record to it too. */
const meters = new WeakMap<object, { meter: RequestMeter; service: MeteredService }>();

/** The meter attached to this client, if any, and the service it counts it under. */
export function requestMeterOf(
  client: object,
): { meter: RequestMeter; service: MeteredService } | undefined {
  return meters.get(client);
}

/**
 * Attach with `meter.attachAll(clients)` (or `attach` one client) before the clients' first
 * call; read `tally()` at any time. Counts only what goes through the attached clients.
 */
export class RequestMeter {
  readonly #startedAt = new Date();
  readonly #counts: Record<MeteredService, Map<string, RequestCounter>> = {
    sqs: new Map(),
    s3: new Map(),
    lambda: new Map(),
  };

  attachAll(clients: Pick<AwsClients, "sqs" | "s3" | "lambda">): void {
    this.attach(clients.sqs, "sqs");
    this.attach(clients.s3, "s3");
    this.attach(clients.lambda, "lambda");
  }

  /** Adds the counting middleware; a client already metered (by any meter) is left as it is. */
  attach(client: MeterableClient, service: MeteredService): void {
    if (meters.has(client)) return;
    meters.set(client, { meter: this, service });
    // The stacks' generics differ per client; the middleware reads only what all of them carry.
    const stack = client.middlewareStack as unknown as MiddlewareStackLike;
    stack.add(
      (next, context) => async (args) => {
        const action = String(context.commandName ?? "Unknown").replace(/Command$/, "");
        const started = performance.now();
        const bytesOut = bodyBytes(args.request);
        try {
          const result = await next(args);
          const status = result.response?.statusCode ?? 200;
          this.record(service, action, {
            billed: billedRequests(service, action, args.input, result.output),
            failed: status >= 400,
            bytesOut,
            bytesIn: contentLength(result.response?.headers),
            durationMs: performance.now() - started,
          });
          return result;
        } catch (error) {
          const response = (error as { $response?: ResponseLike }).$response;
          this.record(service, action, {
            billed: 1,
            failed: true,
            bytesOut,
            bytesIn: contentLength(response?.headers),
            durationMs: performance.now() - started,
          });
          throw error;
        }
      },
      // Deserialize step: inside the retry loop (one count per attempt); high priority: outside
      // the deserializer, so the parsed output (received messages) is there to measure.
      { step: "deserialize", priority: "high", name: "ferryRequestMeter", override: true },
    );
  }

  /** Adds one attempt (the function-URL transport calls this for the posts it sends itself). */
  record(service: MeteredService, action: string, sample: RequestSample): void {
    const counts = this.#counts[service];
    const c = counts.get(action) ?? {
      calls: 0,
      billed: 0,
      failed: 0,
      bytesOut: 0,
      bytesIn: 0,
      durationMs: 0,
    };
    c.calls += 1;
    c.billed += sample.billed;
    c.failed += sample.failed ? 1 : 0;
    c.bytesOut += sample.bytesOut;
    c.bytesIn += sample.bytesIn;
    c.durationMs += sample.durationMs;
    counts.set(action, c);
  }

  /** The counts so far, from the meter's creation to now. */
  tally(now = new Date()): RequestTally {
    const services: RequestTally["services"] = {};
    for (const service of MeteredService.options) {
      const counts = this.#counts[service];
      if (counts.size > 0)
        services[service] = Object.fromEntries([...counts].map(([k, v]) => [k, { ...v }]));
    }
    return {
      v: 1,
      startedAt: this.#startedAt.toISOString(),
      endedAt: now.toISOString(),
      services,
    };
  }
}

/**
 * Requests as SQS bills them: one per started 64 KiB of payload for sends (a batch's entries
 * together) and for received messages; every other call, and an empty receive, is one.
 */
export function billedRequests(
  service: MeteredService,
  action: string,
  input: unknown,
  output: unknown,
): number {
  if (service !== "sqs") return 1;
  let payload = 0;
  if (action === "SendMessage") payload = messageBytes(input);
  else if (action === "SendMessageBatch")
    payload = sum(((input as { Entries?: unknown[] })?.Entries ?? []).map(messageBytes));
  else if (action === "ReceiveMessage")
    payload = sum(((output as { Messages?: unknown[] })?.Messages ?? []).map(messageBytes));
  return sqsChunks(payload);
}

/** Billed requests for one SQS call carrying `payloadBytes`: at least one. */
export function sqsChunks(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / SQS_CHUNK_BYTES));
}

/** A message's payload as SQS sizes it: body plus attribute names, types and values. */
function messageBytes(message: unknown): number {
  const m = (message ?? {}) as {
    MessageBody?: string;
    Body?: string;
    MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }>;
  };
  let bytes = Buffer.byteLength(m.MessageBody ?? m.Body ?? "");
  for (const [name, attr] of Object.entries(m.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(attr.DataType ?? "");
    bytes += Buffer.byteLength(attr.StringValue ?? "");
  }
  return bytes;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

interface ResponseLike {
  statusCode?: number;
  headers?: Record<string, string | undefined>;
}

interface MiddlewareArgs {
  input: unknown;
  request?: { headers?: Record<string, string | undefined>; body?: unknown };
}

type Handler = (args: MiddlewareArgs) => Promise<{ output: unknown; response?: ResponseLike }>;

interface MiddlewareStackLike {
  add(
    middleware: (next: Handler, context: { commandName?: string }) => Handler,
    options: { step: "deserialize"; priority: "high"; name: string; override: boolean },
  ): void;
}

function contentLength(headers: Record<string, string | undefined> | undefined): number {
  const value = Number(headers?.["content-length"] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

/** The request body's size: its content-length, else a string's or buffer's length. */
function bodyBytes(request: MiddlewareArgs["request"]): number {
  const header = request?.headers?.["content-length"];
  if (header !== undefined) return contentLength(request?.headers);
  const body = request?.body;
  if (typeof body === "string") return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return 0;
}
