import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { createRequestHandler } from "local-aws-sqs";
import { z } from "zod";
import type { EmulatorServer } from "./backend.ts";
import { fixQueueModel } from "./compat-sqs-queues.ts";

/**
 * local-aws-sqs, served by our own HTTP server so that the queue URLs it answers name the port
 * clients reach it on, behind workarounds for its own bugs. Each can be turned off, so that
 * test/integration/local-compat.test.ts can show each one is still needed.
 */
export interface SqsWorkarounds {
  /** ReceiveMessage honours MessageSystemAttributeNames, not only AttributeNames. @default true */
  messageSystemAttributeNames: boolean;
  /** ChangeMessageVisibility leaves ApproximateReceiveCount alone. @default true */
  visibilityKeepsReceiveCount: boolean;
  /** A CreateQueue repeated while the queue is still being created makes no second queue. @default true */
  oneQueuePerName: boolean;
  /** A long poll answers as soon as a message is there, each message once. @default true */
  longPollReturnsEarly: boolean;
}

export interface CompatSqsOptions {
  /** @default 0 (a free port) */
  port?: number;
  region: string;
  /** Account id in queue URLs and ARNs. */
  accountId: string;
  /** @default every workaround on */
  workarounds?: Partial<SqsWorkarounds>;
}

export async function startCompatSqs(options: CompatSqsOptions): Promise<EmulatorServer> {
  const fixes: SqsWorkarounds = {
    messageSystemAttributeNames: true,
    visibilityKeepsReceiveCount: true,
    oneQueuePerName: true,
    longPollReturnsEarly: true,
    ...options.workarounds,
  };
  const { requestHandler, service } = createRequestHandler({
    port: 0,
    hostname: "127.0.0.1",
    region: options.region,
    accountId: options.accountId,
    // AWS's rules, kept on: a new queue answers QueueDoesNotExist for about a second, and a
    // deleted queue's name cannot be reused for 60 s (QueueDeletedRecently).
    emulateLazyQueues: true,
    emulateQueueCreationLifecycle: true,
  });
  fixQueueModel(service, {
    keepReceiveCount: fixes.visibilityKeepsReceiveCount,
    oneQueuePerName: fixes.oneQueuePerName,
    longPollReturnsEarly: fixes.longPollReturnsEarly,
  });
  const server = createServer((req, res) => {
    if (fixes.messageSystemAttributeNames && isReceiveMessage(req)) {
      void readAll(req).then(
        (body) => requestHandler(replay(req, withAttributeNames(body)), res),
        () => res.destroy(),
      );
    } else {
      void requestHandler(req, res);
    }
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  // Queue URLs are built from this port: make them name the one we listen on.
  service.PORT = port;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      // Long polls and keep-alive sockets would hold close() open for up to 20 s.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** SDK v3 speaks SQS's JSON protocol: the operation is named in X-Amz-Target. */
function isReceiveMessage(req: IncomingMessage): boolean {
  return req.headers["x-amz-target"] === "AmazonSQS.ReceiveMessage";
}

const ReceiveInput = z.looseObject({
  AttributeNames: z.array(z.string()).optional(),
  MessageSystemAttributeNames: z.array(z.string()),
});

/**
 * local-aws-sqs bug: ReceiveMessage reads only the deprecated AttributeNames and ignores
 * MessageSystemAttributeNames, which SDK v3 and Ferry's agent send, so a message comes back
 * without ApproximateReceiveCount (the agent's attempt count). Copy the names across.
 */
function withAttributeNames(body: Buffer): Buffer {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return body; // the emulator answers a malformed body itself
  }
  const input = ReceiveInput.safeParse(json);
  if (!input.success) return body;
  const names = new Set([
    ...(input.data.AttributeNames ?? []),
    ...input.data.MessageSystemAttributeNames,
  ]);
  return Buffer.from(JSON.stringify({ ...input.data, AttributeNames: [...names] }));
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The request again with another body. The emulator reads only the headers and the body's
 * data/end events, which a Readable carrying the request's headers provides.
 */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const headers = { ...req.headers, "content-length": String(body.byteLength) };
  const copy = Object.assign(Readable.from([body]), { headers, method: req.method, url: req.url });
  return copy as unknown as IncomingMessage;
}
