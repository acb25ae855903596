import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { FerryError, NotFoundError, RefusedError, TransientError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";
import { checkLocation } from "./keys.ts";
import {
  type ByteRange,
  type RangeAnswer,
  type RangeFetcher,
  type ReadObjectOptions,
  readObject,
} from "./read-object.ts";
import { assertBackend } from "./store.ts";

// Reading an object through a presigned GET URL: what a node worker does, which holds no AWS
// credentials, only a URL the agent signed for one key and a short time.

/** A socket silent this long is dead: the range is tried again (read-object.ts). */
const IDLE_TIMEOUT_MS = 60_000;
/** The most of an error answer kept for its message. */
const ERROR_BODY_BYTES = 4_096;

// Keep-alive (ranges reuse sockets). `proxyEnv` (a Node 24 option @types/node does not describe
// yet): a site whose workers reach S3 through a proxy passes HTTPS_PROXY to them (passEnv).
const agentOptions = { keepAlive: true, proxyEnv: process.env };
const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };

/**
 * GETs of the object behind a presigned URL, whole or by range. `where` names the object in
 * errors: the URL itself carries a signature and never appears in a message.
 */
function presignedFetcher(url: string, where: string, location: string): RangeFetcher {
  return async (range) => {
    const response = await get(url, range);
    const status = response.statusCode ?? 0;
    if (status === 200 || status === 206) {
      return {
        kind: "body",
        body: response,
        totalSize: totalSize(response),
        partial: status === 206,
      };
    }
    const code = errorCode(await errorBody(response));
    if (status === 416) return { kind: "unsatisfiable" } satisfies RangeAnswer;
    const context = { location };
    if (status === 404) {
      throw new NotFoundError(`${where} does not exist`, {
        context,
        hint: "it was deleted after its last reader or expired by the bucket lifecycle",
      });
    }
    const what = `${where}: GET through its presigned URL answered ${status} ${code}`;
    if (status === 403) {
      throw new RefusedError(what, {
        context,
        hint: "the URL expired or its signature was refused; the agent signs a fresh one per task",
      });
    }
    // 5xx, throttling and the like may pass: read-object.ts tries the range again.
    throw new TransientError(what, { context });
  };
}

function get(url: string, range: ByteRange | undefined): Promise<IncomingMessage> {
  const target = new URL(url);
  const https = target.protocol === "https:";
  const headers = range ? { Range: `bytes=${range.start}-${range.end}` } : undefined;
  return new Promise((resolve, reject) => {
    const request = (https ? httpsRequest : httpRequest)(target, {
      agent: https ? agents.https : agents.http,
      ...(headers ? { headers } : {}),
    });
    request.setTimeout(IDLE_TIMEOUT_MS, () =>
      request.destroy(new Error(`no answer from the store for ${IDLE_TIMEOUT_MS / 1000} s`)),
    );
    request.once("response", resolve);
    request.once("error", reject);
    request.end();
  });
}

/** The object's whole size: Content-Range's total, or the length of a whole answer. */
function totalSize(response: IncomingMessage): number | undefined {
  const range = response.headers["content-range"];
  if (response.statusCode === 206) {
    const total = range === undefined ? undefined : /\/(\d+)$/.exec(range)?.[1];
    return total === undefined ? undefined : Number(total);
  }
  const length = response.headers["content-length"];
  return length === undefined ? undefined : Number(length);
}

async function errorBody(response: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (text.length < ERROR_BODY_BYTES) text += chunk.toString("utf8");
  }
  return text;
}

/** S3's error code from its XML answer (AccessDenied, SlowDown...), or nothing. */
function errorCode(body: string): string {
  return /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1] ?? "";
}

/**
 * The reader's defaults: the S3 store's own part size and ranges in flight; as many tries of a
 * range as the agent's SDK clients make of a call (core/aws/clients.ts), since a worker that
 * gives up fails its task where the agent would have tried again later.
 */
const PRESIGNED_READ: ReadObjectOptions = { partSize: 8 * 1024 * 1024, queueSize: 4, attempts: 5 };

/**
 * The referenced object's bytes through a presigned GET URL, verified (size and sha256): in
 * one GET, or in ranged GETs several at once when larger than a part (read-object.ts).
 */
export function readPresigned(
  url: string,
  ref: StoreRef,
  options: ReadObjectOptions = PRESIGNED_READ,
): Promise<Uint8Array> {
  assertBackend(ref, "s3");
  checkLocation(ref.location);
  const where = `s3 store object ${ref.location}`;
  return readObject(presignedFetcher(url, where, ref.location), ref, where, options).catch(
    (error: unknown) => {
      // A socket that failed every try (refused, reset, silent): the store was out of reach,
      // which the agent answers by trying the task again later, not by failing it.
      if (error instanceof FerryError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new TransientError(`${where}: cannot reach the store: ${message}`, {
        cause: error,
        context: { location: ref.location },
      });
    },
  );
}
