import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import { localCaller, URL_PATH, urlEvent, urlReply } from "./function-url.ts";

/**
 * A local stand-in for the Lambda Invoke API, so @aws-sdk/client-lambda's InvokeCommand works
 * unchanged against the embedded emulator. No npm package serves this standalone; it is small.
 * Each function runs in its own worker thread with the environment the template gives it.
 */
export interface HostedFunction {
  name: string;
  /** The bundled handler file (ESM). */
  bundleFile: string;
  /** Exported function name, from the template's "index.handler". */
  exportName: string;
  environment: Record<string, string>;
}

const WorkerReply = z.union([
  z.object({ ready: z.literal(true) }),
  z.object({ id: z.number(), ok: z.literal(true), result: z.unknown() }),
  z.object({
    id: z.number(),
    ok: z.literal(false),
    errorType: z.string(),
    errorMessage: z.string(),
  }),
]);
type Outcome =
  | { ok: true; result: unknown }
  | { ok: false; errorType: string; errorMessage: string };

class FunctionSandbox {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (o: Outcome) => void>();
  readonly ready: Promise<void>;
  #nextId = 0;

  constructor(fn: HostedFunction) {
    this.#worker = new Worker(new URL("./lambda-worker.ts", import.meta.url), {
      workerData: { bundleFile: fn.bundleFile, exportName: fn.exportName },
      env: { ...process.env, ...fn.environment },
    });
    this.ready = new Promise((resolve, reject) => {
      this.#worker.once("error", reject);
      this.#worker.on("message", (raw: unknown) => {
        const msg = WorkerReply.parse(raw);
        if ("ready" in msg) return resolve();
        const { id, ...outcome } = msg;
        this.#pending.get(id)?.(outcome);
        this.#pending.delete(id);
      });
    });
    this.#worker.on("error", (error) => {
      for (const settle of this.#pending.values()) {
        settle({ ok: false, errorType: "Runtime.ExitError", errorMessage: error.message });
      }
      this.#pending.clear();
    });
  }

  invoke(event: unknown): Promise<Outcome> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#worker.postMessage({ id, event });
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

export interface LambdaHost {
  url: string;
  /** A hosted function's URL (AWS_IAM auth, as the stack deploys it). */
  functionUrl(name: string): string;
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Serve the Invoke API and function URLs for `functions`, each in its own worker thread; it
 * resolves once every worker has loaded its bundle and the server listens.
 */
export async function startLambdaHost(
  functions: HostedFunction[],
  options: { port?: number; host?: string } = {},
): Promise<LambdaHost> {
  const sandboxes: Sandboxes = new Map();
  for (const fn of functions) sandboxes.set(fn.name, new FunctionSandbox(fn));
  await Promise.all([...sandboxes.values()].map((s) => s.ready));

  const server: Server = createServer((req, res) => {
    route(sandboxes, req, res).catch((error: unknown) => {
      reply(res, 500, { message: error instanceof Error ? error.message : String(error) });
    });
  });
  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    functionUrl: (name) => `${url}/urls/${encodeURIComponent(name)}/`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...sandboxes.values()].map((s) => s.close()));
    },
  };
}

/** The hosted functions' sandboxes, by function name. */
type Sandboxes = Map<string, FunctionSandbox>;

/** A request to a function URL or to the Invoke API; anything else is a 404. */
async function route(sandboxes: Sandboxes, req: IncomingMessage, res: ServerResponse) {
  const path = req.url?.split("?")[0] ?? "";
  const urlMatch = req.method === "POST" ? URL_PATH.exec(path) : null;
  if (urlMatch?.[1]) return handleUrl(req, res, sandboxes.get(decodeURIComponent(urlMatch[1])));
  const match = req.method === "POST" ? INVOKE_PATH.exec(path) : null;
  if (!match?.[1]) return reply(res, 404, { message: `no such route ${req.method} ${req.url}` });
  return handleInvoke(req, res, sandboxes, decodeURIComponent(match[1]));
}

/** An Invoke API call: the body is the event, answered as Lambda's Invoke API answers. */
async function handleInvoke(
  req: IncomingMessage,
  res: ServerResponse,
  sandboxes: Sandboxes,
  name: string,
): Promise<void> {
  // The SDK may send a function ARN; the name is its last part.
  const sandbox = sandboxes.get(name.split(":").at(-1) ?? name) ?? sandboxes.get(name);
  if (!sandbox) {
    return reply(
      res,
      404,
      { Type: "User", message: `Function not found: ${name}` },
      { "x-amzn-errortype": "ResourceNotFoundException" },
    );
  }
  const text = await readBody(req);
  let event: unknown = null;
  try {
    event = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    return reply(
      res,
      400,
      { message: "Could not parse request body into json" },
      { "x-amzn-errortype": "InvalidRequestContentException" },
    );
  }
  const outcome = await sandbox.invoke(event);
  if (outcome.ok) return reply(res, 200, outcome.result, { "x-amz-executed-version": "$LATEST" });
  return reply(
    res,
    200,
    { errorType: outcome.errorType, errorMessage: outcome.errorMessage },
    { "x-amz-function-error": "Unhandled" },
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A function URL request: the caller from its signature's access key, as AWS_IAM auth would. */
async function handleUrl(
  req: IncomingMessage,
  res: ServerResponse,
  sandbox: FunctionSandbox | undefined,
): Promise<void> {
  if (!sandbox) return reply(res, 404, { Message: "Not Found" });
  const caller = localCaller(req);
  // AWS answers an unsigned request to an AWS_IAM URL with 403 and this body.
  if (!caller) return reply(res, 403, { Message: "Forbidden" });
  const outcome = await sandbox.invoke(urlEvent(req, await readBody(req), caller));
  if (!outcome.ok) return reply(res, 502, { Message: "Internal Server Error" });
  const out = urlReply(outcome.result);
  res.writeHead(out.status, out.headers);
  res.end(out.body);
}

function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}
