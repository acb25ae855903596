import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors.ts";

/** As the seed's `--ps-threshold` default: values over 10 kB go by reference. */
export const DEFAULT_THRESHOLD_BYTES = 10_000;

const Bytes = z.union([
  z.number().int().nonnegative(),
  // Accept the shell's form, `--ps-threshold 500000`.
  z.string().regex(/^\d+$/, "expected a whole number of bytes").transform(Number),
]);

/** A Redis server as `host:port` (a host name or IPv4 address; port 1-65535). */
export const RedisServer = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "expected host:port, e.g. localhost:6379")
  .refine((server) => {
    const port = Number(server.slice(server.lastIndexOf(":") + 1));
    return port >= 1 && port <= 65_535;
  }, "the port must be 1-65535");

const PolicySchema = z
  .object({
    backend: z.enum(["s3", "file", "redis", "none"]).default("s3"),
    thresholdBytes: Bytes.default(DEFAULT_THRESHOLD_BYTES),
    fileDir: z.string().min(1).optional(),
    /** redis: the server both sides reach, as `host:port`. */
    server: RedisServer.optional(),
  })
  .strict()
  .refine((policy) => policy.backend !== "file" || policy.fileDir !== undefined, {
    message: "backend file needs fileDir, the directory both sides mount",
    path: ["fileDir"],
  })
  .refine((policy) => policy.backend !== "redis" || policy.server !== undefined, {
    message: "backend redis needs server, the host:port of a Redis server both sides reach",
    path: ["server"],
  });

/** What a user writes for a topic; every field may be left out. */
export type StorePolicyInput = z.input<typeof PolicySchema>;

/**
 * A topic's store policy: values whose encoding is over `thresholdBytes` go by reference
 * through `backend`; `none` keeps everything inline (up to the SQS message limit).
 */
export type StorePolicy =
  | { backend: "s3" | "none"; thresholdBytes: number }
  | { backend: "file"; thresholdBytes: number; fileDir: string }
  | { backend: "redis"; thresholdBytes: number; server: string };

/** Policies by topic; a topic without one gets DEFAULT_STORE_POLICY. */
export type StorePolicies = Readonly<Record<string, StorePolicy>>;

/**
 * Fill the defaults of a topic's policy (backend `s3`: every deployment has the bucket;
 * threshold 10,000 bytes) and validate it. `fileDir` becomes absolute; `server` (redis) is
 * `host:port`.
 * @throws ConfigError naming the bad field.
 */
export function resolveStorePolicy(input: unknown, what = "store policy"): StorePolicy {
  const result = PolicySchema.safeParse(input ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new ConfigError(`${what}: ${path}${issue?.message ?? "invalid"}`, {
      cause: result.error,
      hint: 'write it as { backend: "s3" | "file" | "redis" | "none", thresholdBytes, fileDir, server }',
    });
  }
  const { backend, thresholdBytes, fileDir, server } = result.data;
  if (backend === "file") return { backend, thresholdBytes, fileDir: resolve(fileDir ?? "") };
  if (backend === "redis") return { backend, thresholdBytes, server: server ?? "" };
  return { backend, thresholdBytes };
}

export const DEFAULT_STORE_POLICY: StorePolicy = resolveStorePolicy({});

export function policyFor(policies: StorePolicies, topic: string): StorePolicy {
  return Object.hasOwn(policies, topic)
    ? (policies[topic] ?? DEFAULT_STORE_POLICY)
    : DEFAULT_STORE_POLICY;
}
