import {
  type Agent,
  type ClientRequest,
  type IncomingMessage,
  request,
  type ServerResponse,
} from "node:http";
import { pipeline } from "node:stream";
import { endToEndHeaders, readBody } from "./io.ts";

/** The emulator behind the proxy, reached over a keep-alive agent of the proxy's own. */
export interface Upstream {
  url: URL;
  agent: Agent;
}

type Headers = Record<string, string | string[]>;

export function upstreamRequest(
  upstream: Upstream,
  method: string,
  path: string,
  headers: Headers,
) {
  return request({
    host: upstream.url.hostname,
    port: upstream.url.port,
    method,
    path,
    headers,
    agent: upstream.agent,
  });
}

/**
 * Sends a request upstream, once more if a kept-alive socket turned out to be closed by the
 * upstream just before reuse (the race Node's docs describe): that reset is the proxy's own
 * plumbing, not a fault anyone configured. Only a body already in memory can be sent twice.
 */
interface Exchange {
  /** The upstream request in flight (the second one after a retry). */
  current?: ClientRequest;
  onResponse(res: IncomingMessage): void;
  onError(): void;
}

function send(
  upstream: Upstream,
  req: IncomingMessage,
  headers: Headers,
  body: Buffer | undefined,
  exchange: Exchange,
  retried = false,
): void {
  const up = upstreamRequest(upstream, req.method ?? "GET", req.url ?? "/", headers);
  exchange.current = up;
  let answered = false;
  up.on("response", (upRes) => {
    answered = true;
    exchange.onResponse(upRes);
  });
  up.on("error", () => {
    if (!answered && !retried && body && up.reusedSocket) {
      send(upstream, req, headers, body, exchange, true);
    } else exchange.onError();
  });
  if (body) up.end(body);
  else pipeline(req, up, () => {});
}

/**
 * Sends the client's request upstream and its answer back, streaming both ways unless `body`
 * was already read. With `resetAfter`, the upstream's answer is read to the end (the call has
 * happened) and the client's socket is destroyed instead. Resolves with the upstream status
 * once the exchange is over, or undefined when upstream could not be reached.
 */
export function forward(
  upstream: Upstream,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | undefined,
  resetAfter: boolean,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const headers = endToEndHeaders(req.headers);
    if (body) headers["content-length"] = String(body.length);
    // Set once upstream has answered in full: from then on its socket belongs to the agent.
    let upstreamDone = false;
    const onResponse = (upRes: IncomingMessage) => {
      const status = upRes.statusCode ?? 502;
      upRes.on("end", () => {
        upstreamDone = true;
        if (resetAfter) req.socket.destroy();
      });
      if (resetAfter) {
        upRes.on("close", () => resolve(status));
        upRes.resume();
        return;
      }
      // The client gave up while upstream was answering: nothing to write to (pipeline would
      // throw at once on a destroyed stream).
      if (res.destroyed) {
        upRes.resume();
        resolve(status);
        return;
      }
      res.writeHead(status, upRes.statusMessage, endToEndHeaders(upRes.headers));
      pipeline(upRes, res, () => resolve(status));
    };
    // Upstream gone: the client sees the connection drop, as it would if AWS were unreachable.
    const onError = () => {
      req.socket.destroy();
      resolve(undefined);
    };
    const exchange: Exchange = { onResponse, onError };
    send(upstream, req, headers, body, exchange);
    // A client that gives up takes its upstream request with it.
    res.on("close", () => {
      if (!upstreamDone && !res.writableFinished) exchange.current?.destroy();
    });
  });
}

/** A small upstream exchange read whole: for the proxy's own SQS calls. */
export function call(
  upstream: Upstream,
  method: string,
  path: string,
  headers: Headers,
  body: Buffer,
): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const up = upstreamRequest(upstream, method, path, {
      ...headers,
      "content-length": String(body.length),
    });
    up.on("response", (upRes) => {
      readBody(upRes).then(
        (data) => resolve({ status: upRes.statusCode ?? 502, headers: upRes.headers, body: data }),
        reject,
      );
    });
    up.on("error", reject);
    up.end(body);
  });
}
