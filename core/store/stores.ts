import { resolve } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { ConfigError } from "../errors.ts";
import { createFileStore, type FileStoreOptions } from "./file-store.ts";
import type { StorePolicies } from "./policy.ts";
import { createRedisStores, type RedisStoreOptions } from "./redis-store.ts";
import { createS3Store, type S3StoreOptions } from "./s3-store.ts";
import type { Stores } from "./store.ts";

export interface CreateStoresOptions {
  /** The deployment's bucket and an S3 client: enables the `s3` backend. */
  s3?: { client: S3Client; bucket: string } & Partial<S3StoreOptions>;
  /**
   * This side's mount of the shared directory: enables the `file` backend. A reader whose
   * mount differs from the writer's sets it here.
   * @default the fileDir of the policies (they must agree)
   */
  fileDir?: string;
  /** @default true */
  fsync?: FileStoreOptions["fsync"];
  /**
   * Enables the `redis` backend for these servers (`host:port`) besides those the policies
   * name; any other server a reference names is refused.
   */
  redis?: Partial<RedisStoreOptions>;
  /** The topics' policies, for their fileDir and redis servers. */
  policies?: StorePolicies;
}

/** The backends a side can reach, from its deployment and policies. */
export function createStores(options: CreateStoresOptions): Stores {
  const fileDir = options.fileDir ?? fileDirOf(options.policies ?? {});
  const redisServers = [
    ...(options.redis?.servers ?? []),
    ...Object.values(options.policies ?? {}).flatMap((p) =>
      p.backend === "redis" ? [p.server] : [],
    ),
  ];
  return {
    redis:
      redisServers.length === 0
        ? undefined
        : createRedisStores({ ...options.redis, servers: redisServers }),
    s3: options.s3 ? createS3Store(options.s3) : undefined,
    file:
      fileDir === undefined
        ? undefined
        : createFileStore({
            dir: fileDir,
            ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
          }),
  };
}

function fileDirOf(policies: StorePolicies): string | undefined {
  const dirs = new Set<string>();
  for (const policy of Object.values(policies)) {
    if (policy.backend === "file") dirs.add(resolve(policy.fileDir));
  }
  if (dirs.size > 1) {
    throw new ConfigError(`file store policies name several directories: ${[...dirs].join(", ")}`, {
      hint: "use one shared directory for every topic: references hold paths relative to it",
    });
  }
  return dirs.values().next().value;
}
