import { mkdir, rm } from "node:fs/promises";
import S3rver, { type S3rverContext, type S3rverMiddleware } from "s3rver";
import AWSAccount from "s3rver/lib/models/account.js";
import { ConfigError } from "#core/errors.ts";
import type { EmulatorServer } from "./backend.ts";

/**
 * s3rver behind two workarounds for its own bugs, each a Koa middleware placed just before its
 * router, so s3rver's parsing, auth and XML encoding still do the rest. Both can be turned off,
 * so that test/integration/local-compat.test.ts can show each one is still needed.
 */
export interface S3Workarounds {
  /** Accept any access key id (s3rver knows only its own "S3RVER"). @default true */
  anyAccessKey: boolean;
  /** Page ListObjectsV2 without s3rver's DES continuation tokens. @default true */
  listObjectsV2Paging: boolean;
}

export interface CompatS3Options {
  /** @default 0 (a free port) */
  port?: number;
  /** Where s3rver keeps objects; emptied at start, like an in-memory emulator. */
  directory: string;
  /** @default every workaround on */
  workarounds?: Partial<S3Workarounds>;
}

export async function startCompatS3(options: CompatS3Options): Promise<EmulatorServer> {
  const fixes: S3Workarounds = {
    anyAccessKey: true,
    listObjectsV2Paging: true,
    ...options.workarounds,
  };
  await rm(options.directory, { recursive: true, force: true });
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: "127.0.0.1",
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    // Not emptied on close: an upload whose response went out may still be writing its file,
    // and emptying the directory under it crashed the process with s3rver's unhandled ENOENT
    // (CI's test:compat teardown, twice). The next start empties it.
    resetOnClose: false,
  });
  const added: S3rverMiddleware[] = [];
  if (fixes.anyAccessKey) added.push(acceptAnyAccessKey);
  if (fixes.listObjectsV2Paging) added.push(listObjectsV2ViaV1);
  insertBeforeRouter(server, added);
  const address = await server.run();
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      // Idle keep-alive sockets would hold close() open until they time out; requests in
      // flight finish first.
      server.httpServer?.closeIdleConnections();
      await server.close();
    },
  };
}

function insertBeforeRouter(server: S3rver, middleware: S3rverMiddleware[]): void {
  const last = server.middleware.at(-1) as { router?: unknown } | undefined;
  if (!last?.router) {
    throw new ConfigError(
      "compat backend: s3rver's middleware stack is not the one of s3rver 3.7.1",
    );
  }
  server.middleware.splice(server.middleware.length - 1, 0, ...middleware);
}

/**
 * s3rver bug: it answers InvalidAccessKeyId to every access key but its built-in "S3RVER",
 * where AWS accepts any key of the account and fauxqs and LocalStack any key at all; Ferry signs
 * with "test" or the user's own key. s3rver does not check SigV4 signatures anyway, so
 * registering the caller's key with its one account loses no check.
 */
const acceptAnyAccessKey: S3rverMiddleware = async (ctx, next) => {
  const key = accessKeyOf(ctx);
  if (key && !AWSAccount.registry.has(key)) AWSAccount.DUMMY_ACCOUNT.createKeyPair(key, key);
  await next();
};

function accessKeyOf(ctx: S3rverContext): string | undefined {
  const header = ctx.headers.authorization;
  const presigned = ctx.query["X-Amz-Credential"];
  const credential =
    typeof header === "string" ? header : typeof presigned === "string" ? presigned : "";
  return /(?:Credential=|^)([A-Za-z0-9]+)\//.exec(credential)?.[1];
}

interface ListBucketResult {
  Contents?: Array<{ Key: string; Owner?: unknown }>;
  CommonPrefixes?: Array<{ Prefix: string }>;
  IsTruncated?: boolean;
  [field: string]: unknown;
}

/**
 * s3rver bug (on Node >= 17, whose OpenSSL 3 disables DES): it encrypts ListObjectsV2
 * continuation tokens with DES, so every truncated listing (more keys than MaxKeys, 1,000 by
 * default) and every request carrying a token answers 500 InternalError. Its V1 listing pages
 * by marker without a token: serve V2 through it, with an opaque token of our own.
 */
const listObjectsV2ViaV1: S3rverMiddleware = async (ctx, next) => {
  const query = ctx.query;
  if (ctx.method !== "GET" || query["list-type"] !== "2" || !/^\/[^/]+\/?$/.test(ctx.path)) {
    return next();
  }
  const {
    "list-type": _v2,
    "continuation-token": token,
    "start-after": startAfter,
    ...rest
  } = query;
  const { "fetch-owner": fetchOwner, ...v1 } = rest;
  const marker = typeof token === "string" ? decodeToken(token) : startAfter;
  ctx.query = marker === undefined ? v1 : { ...v1, marker };
  await next();
  const result = (ctx.body as { ListBucketResult?: ListBucketResult } | undefined)
    ?.ListBucketResult;
  if (!result) return;
  delete result.Marker;
  delete result.NextMarker;
  const contents = result.Contents ?? [];
  const prefixes = result.CommonPrefixes ?? [];
  result.KeyCount = contents.length + prefixes.length;
  if (typeof token === "string") result.ContinuationToken = token;
  else if (typeof startAfter === "string") result.StartAfter = startAfter;
  if (result.IsTruncated)
    result.NextContinuationToken = encodeToken(lastListed(contents, prefixes));
  if (fetchOwner !== "true") for (const object of contents) delete object.Owner;
};

/** Where the next page starts: after the last key, or after every key under the last prefix. */
function lastListed(contents: Array<{ Key: string }>, prefixes: Array<{ Prefix: string }>): string {
  const key = contents.at(-1)?.Key ?? "";
  const prefix = prefixes.at(-1)?.Prefix;
  return prefix !== undefined && `${prefix}\uffff` > key ? `${prefix}\uffff` : key;
}

const encodeToken = (startAfter: string) => Buffer.from(startAfter, "utf8").toString("base64url");
const decodeToken = (token: string) => Buffer.from(token, "base64url").toString("utf8");
