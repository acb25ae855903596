import { Redis, type RedisOptions } from "ioredis";
import { NotFoundError, RefusedError, TransientError } from "../errors.ts";
import type { StoreRef } from "../protocol/payload.ts";
import { checkLocation, newLocation } from "./keys.ts";
import { assertBackend, type ObjectStore, type PutOptions } from "./store.ts";
import { checkStoredSize, sha256Interleaved, verifyDigest } from "./verify.ts";

/** Redis refuses a string over 512 MiB (proto-max-bulk-len). */
export const REDIS_MAX_OBJECT_BYTES = 512 * 1024 * 1024;
/** SQS's default message retention: a reference never outlives the task that carries it. */
export const REDIS_DEFAULT_TTL_SECONDS = 4 * 24 * 3600;
/** Every key Ferry writes starts so, apart from whatever else shares the server. */
const KEY_PREFIX = "ferry:";

export interface RedisStoreOptions {
  /**
   * The servers this side may connect to (`host:port`). A policy or reference naming any other
   * is refused: an agent never connects to a host on a task's word alone.
   */
  servers: readonly string[];
  /** Sent with AUTH; functions never see it (they get no connection, only values). */
  password?: string | undefined;
  /**
   * Every object expires after this long, so nothing lingers when its last reader never came.
   * @default 345600 (4 days, SQS's default retention)
   */
  ttlSeconds?: number;
  /** @default 512 MiB, the largest string Redis holds */
  maxObjectBytes?: number;
  /** @default 5000 */
  connectTimeoutMs?: number;
  /** Builds a client; tests inject one. @default new Redis(options) (ioredis) */
  connect?: (options: RedisOptions) => Redis;
}

/** The `redis` backend: one object store per allowed server. */
export interface RedisStores {
  readonly backend: "redis";
  readonly servers: readonly string[];
  /** The store on `server`; refused (RefusedError) when it is not an allowed one. */
  on(server: string): ObjectStore;
}

interface RedisContext {
  server: string;
  host: string;
  port: number;
  options: RedisStoreOptions;
  ttlSeconds: number;
  maxObjectBytes: number;
}

/** The `redis` backend for the given servers (none is contacted until an object moves). */
export function createRedisStores(options: RedisStoreOptions): RedisStores {
  const servers = [...new Set(options.servers.map(normalServer))];
  const stores = new Map<string, ObjectStore>();
  return {
    backend: "redis",
    servers,
    on(server) {
      const name = normalServer(server);
      if (!servers.includes(name)) throw notAllowed(name, servers);
      let store = stores.get(name);
      if (!store) {
        store = redisStore(context(name, options));
        stores.set(name, store);
      }
      return store;
    },
  };
}

function context(server: string, options: RedisStoreOptions): RedisContext {
  const colon = server.lastIndexOf(":");
  return {
    server,
    host: server.slice(0, colon),
    port: Number(server.slice(colon + 1)),
    options,
    ttlSeconds: options.ttlSeconds ?? REDIS_DEFAULT_TTL_SECONDS,
    maxObjectBytes: options.maxObjectBytes ?? REDIS_MAX_OBJECT_BYTES,
  };
}

function redisStore(ctx: RedisContext): ObjectStore {
  return {
    backend: "redis",
    put: (bytes, putOptions) => putBytes(ctx, bytes, putOptions),
    get: (ref) => getBytes(ctx, ref),
    delete: async (ref) => {
      const key = keyOf(ctx, ref);
      await withClient(ctx, (client) => client.del(key));
    },
  };
}

async function putBytes(
  ctx: RedisContext,
  bytes: Uint8Array,
  { codec, temporary = false, owner }: PutOptions,
): Promise<StoreRef> {
  if (bytes.byteLength > ctx.maxObjectBytes) {
    throw new RefusedError(
      `a ${bytes.byteLength}-byte value is over the redis store's limit of ${ctx.maxObjectBytes} bytes`,
      { hint: "send values this large through the s3 store (--<topic>-ps-backend s3)" },
    );
  }
  // Under the owner's part, as in S3: keys are scoped to the session's principal.
  const location = newLocation(codec, temporary, owner);
  const [sha256] = await Promise.all([
    sha256Interleaved(bytes),
    withClient(ctx, (client) =>
      client.set(
        KEY_PREFIX + location,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        "EX",
        ctx.ttlSeconds,
      ),
    ),
  ]);
  return { store: "redis", server: ctx.server, location, size: bytes.byteLength, sha256, codec };
}

async function getBytes(ctx: RedisContext, ref: StoreRef): Promise<Uint8Array> {
  const key = keyOf(ctx, ref);
  const where = `redis object ${ref.location} on ${ctx.server}`;
  const bytes = await withClient(ctx, (client) => client.getBuffer(key));
  if (bytes === null) {
    throw new NotFoundError(`${where} does not exist`, {
      context: { location: ref.location },
      hint: `it expired (after ${ctx.ttlSeconds} s) or was deleted after its last reader; submit the task again`,
    });
  }
  checkStoredSize(bytes.byteLength, ref, where);
  verifyDigest(await sha256Interleaved(bytes), ref, where);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The key of a reference from a message (untrusted): checked as every store's locations are. */
function keyOf(ctx: RedisContext, ref: StoreRef): string {
  assertBackend(ref, "redis");
  if (ref.server !== undefined && normalServer(ref.server) !== ctx.server) {
    throw new RefusedError(`a reference on ${ref.server} was handed to the store on ${ctx.server}`);
  }
  checkLocation(ref.location);
  return KEY_PREFIX + ref.location;
}

/**
 * One connection per operation, closed after it. Hand-written on purpose: objects go by
 * reference only past the threshold (rarely, and each large), so a connection's setup
 * (under a millisecond on a site's network) is small beside the transfer, and no socket
 * stays open to keep a client or agent process alive or to go stale while Redis restarts.
 */
async function withClient<T>(ctx: RedisContext, op: (client: Redis) => Promise<T>): Promise<T> {
  const build = ctx.options.connect ?? ((options: RedisOptions) => new Redis(options));
  const client = build({
    host: ctx.host,
    port: ctx.port,
    ...(ctx.options.password === undefined ? {} : { password: ctx.options.password }),
    lazyConnect: true,
    connectTimeout: ctx.options.connectTimeoutMs ?? 5_000,
    // Fail at once rather than queue and reconnect: the caller's retries decide.
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // Errors reach the caller through the rejected command; without a listener ioredis logs
  // them. A failed connect rejects with "Connection is closed": the event names the cause.
  let socketError: unknown;
  client.on("error", (error: unknown) => {
    socketError ??= error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw unreachable(ctx.server, socketError ?? error);
  }
  try {
    return await op(client);
  } finally {
    client.disconnect();
  }
}

function unreachable(server: string, cause: unknown): TransientError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new TransientError(`cannot reach the Redis server at ${server} (${why})`, {
    cause,
    hint: "start redis-server there, or point --redishost/--redisport (site config storeRedisServers) at a running one",
    context: { server },
  });
}

function notAllowed(server: string, servers: readonly string[]): RefusedError {
  const allowed = servers.length === 0 ? "none" : servers.join(", ");
  return new RefusedError(
    `redis server ${server} is not one this side may reach (allowed: ${allowed})`,
    {
      context: { server },
      hint: `a site admin adds it to the site config ("storeRedisServers": ["${server}"]), or send the topic through s3`,
    },
  );
}

/** `Host:Port` as compared in allow-lists: the host in lower case. */
function normalServer(server: string): string {
  const colon = server.lastIndexOf(":");
  return `${server.slice(0, colon).toLowerCase()}${server.slice(colon)}`;
}
