import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Checksum, HttpResponse, SourceData } from "@smithy/types";
import { requestMeterOf } from "../aws/request-meter.ts";
import { backoffDelayMs, sleep } from "../backoff.ts";
import { FerryError, RefusedError, TransientError } from "../errors.ts";

/** Tries per call: AWS's SDKs retry throttling and 5xx five times too. */
const ATTEMPTS = 5;

function toBytes(data: SourceData): Uint8Array | string {
  if (typeof data === "string") return data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** sha256 and HMAC-sha256 for SigV4, from node:crypto. */
class Sha256 implements Checksum {
  readonly #secret: Uint8Array | string | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : toBytes(secret);
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash("sha256") : createHmac("sha256", this.#secret);
  }

  update(data: SourceData): void {
    this.#hash.update(toBytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#fresh();
  }
}

/**
 * Posts a control request to the registration function's URL (AWS_IAM auth), signed with
 * SigV4 by the Lambda client's own credentials and sent through its HTTP handler (proxies,
 * keep-alive). Lambda authenticates the signature and hands the function the caller's
 * identity: that is why the control plane is called this way and not with Invoke, whose
 * events carry no caller. Hand-written because no AWS SDK client calls a function URL.
 */
export async function postToFunctionUrl(
  lambda: LambdaClient,
  functionUrl: string,
  body: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await postOnce(lambda, functionUrl, body, signal);
    } catch (error) {
      const retry = error instanceof TransientError && attempt < ATTEMPTS && !signal?.aborted;
      if (!retry) throw error;
      await sleep(backoffDelayMs(attempt, { baseMs: 100, capMs: 5_000 }), signal);
    }
  }
}

async function postOnce(
  lambda: LambdaClient,
  functionUrl: string,
  body: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const url = new URL(functionUrl);
  const request = new HttpRequest({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    headers: { "content-type": "application/json", host: url.host },
    body,
  });
  const signer = new SignatureV4({
    credentials: lambda.config.credentials,
    region: await lambda.config.region(),
    service: "lambda",
    sha256: Sha256,
  });
  const signed = await signer.sign(request);
  let response: HttpResponse;
  const started = performance.now();
  try {
    ({ response } = await lambda.config.requestHandler.handle(
      signed as HttpRequest,
      signal ? { abortSignal: signal } : {},
    ));
  } catch (cause) {
    throw new TransientError("cannot reach the registration function URL", { cause });
  }
  const text = await readBody(response);
  const status = response.statusCode;
  // This post bypasses the client's middleware stack: it tells the client's meter itself.
  requestMeterOf(lambda)?.meter.record("lambda", "InvokeFunctionUrl", {
    billed: 1,
    failed: status >= 400,
    bytesOut: Buffer.byteLength(body),
    bytesIn: Buffer.byteLength(text),
    durationMs: performance.now() - started,
  });
  if (status === 200) return text;
  if (status === 429 || status >= 500) {
    throw new TransientError(
      `the registration function URL answered ${status}: ${text.slice(0, 200)}`,
    );
  }
  if (status === 403 || status === 401) {
    throw new RefusedError(`the registration function URL refused these credentials (${status})`, {
      hint: "the caller's IAM policy must allow lambda:InvokeFunctionUrl and lambda:InvokeFunction (via the URL) on the registration function: attach the stack's client or endpoint policy",
    });
  }
  throw new FerryError(`the registration function URL answered ${status}: ${text.slice(0, 500)}`);
}

async function readBody(response: HttpResponse): Promise<string> {
  const body = response.body as AsyncIterable<Uint8Array> | undefined;
  if (
    !body ||
    typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== "function"
  )
    return "";
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}
