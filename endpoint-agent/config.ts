import { readFile } from "node:fs/promises";
import { availableParallelism, homedir, tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { loadEnv } from "#core/config/index.ts";
import { ConfigError } from "#core/errors.ts";
import {
  MAX_WALLTIME_SECONDS,
  SQS_VISIBILITY_CEILING_SECONDS,
  Uuid,
} from "#core/protocol/index.ts";
import {
  RedisServer,
  resolveStorePolicy,
  type StorePolicies,
  type StorePolicy,
} from "#core/store/index.ts";
import { AllowedFunction } from "./allow-list.ts";
import { FORBIDDEN_PASS_ENV } from "./function-env.ts";

/** SQS's longest visibility timeout (12 h). */
const MAX_VISIBILITY_SECONDS = SQS_VISIBILITY_CEILING_SECONDS;

/**
 * The site config file (JSON, or YAML for `.yaml`/`.yml`). Unknown keys are errors, so a typo
 * never silently falls back to a default.
 */
export const SiteConfigSchema = z
  .strictObject({
    /** The endpoint this agent serves; the command line's UUID wins when both are given. */
    endpointId: Uuid.optional(),
    /** Concurrent tasks. @default the number of gpuIds, else the number of CPUs */
    workers: z.number().int().min(1).max(1_024).optional(),
    /**
     * Warm node workers kept idle for reuse (least recently used go first). Twice the slots
     * by default, so a campaign that alternates two functions (train, then infer) finds both
     * warm instead of paying a fork and import each time; each idle worker holds its memory.
     * @default 2 × workers
     */
    maxIdleWorkers: z.number().int().min(0).max(4_096).optional(),
    /**
     * Messages received ahead of free slots, started as slots free. Fewer, larger receives
     * (and cancellation checks) when tasks are short; a prefetched message not started within
     * 5 s goes back to the queue for another agent. 0: receive only for free slots.
     * @default min(workers, 10)
     */
    prefetchTasks: z.number().int().min(0).max(100).optional(),
    /** GPU ids; one task per GPU, pinned with CUDA_VISIBLE_DEVICES. @default [] */
    gpuIds: z.array(z.string().min(1)).max(1_024).default([]),
    /**
     * Variables of the agent's environment that functions get too (by name), e.g.
     * ["XTBPATH", "OMP_NUM_THREADS", "PYTHONPATH"]. Functions otherwise get only PATH, the
     * locale, their own HOME/TMPDIR, CUDA_VISIBLE_DEVICES and Ferry's FERRY_* task variables;
     * AWS_* names and Ferry's own configuration (FERRY_HOME, FERRY_DEPLOYMENT, ...) are
     * refused here: they are the agent's credentials and deployment.
     * @default []
     */
    passEnv: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
          .refine((name) => !FORBIDDEN_PASS_ENV.test(name), {
            message:
              "AWS_* variables and Ferry's own configuration never reach functions: they are the agent's credentials and deployment",
          }),
      )
      .max(256)
      .default([]),
    /**
     * Functions allowed to run here: a name (any registered version) or `name@sha256:<hex>`
     * (that exact code only; a newer version registered under the name is refused until it is
     * listed too). Unset: every registered function.
     */
    allowedFunctions: z.array(AllowedFunction).optional(),
    /** Parent of each task's private scratch dir. @default <tmpdir>/ferry-scratch */
    scratchDir: z.string().min(1).optional(),
    /** Function bundles cached by content hash. @default $FERRY_HOME/cache */
    cacheDir: z.string().min(1).optional(),
    /** Results waiting to be re-sent after an outage. @default $FERRY_HOME/spool */
    spoolDir: z.string().min(1).optional(),
    /** Walltime of a task that does not set one. @default 3600 */
    defaultWalltimeSeconds: z.number().int().min(1).max(MAX_WALLTIME_SECONDS).default(3_600),
    /** Visibility of a received task; extended every third of it while the task runs. @default 120 */
    visibilityTimeoutSeconds: z.number().int().min(1).max(MAX_VISIBILITY_SECONDS).default(120),
    /** @default 30 */
    heartbeatIntervalSeconds: z.number().positive().max(3_600).default(30),
    /** How long SIGTERM/SIGINT lets running tasks finish before releasing them. @default 30 */
    shutdownGraceSeconds: z.number().min(0).max(86_400).default(30),
    /** Time between SIGTERM and SIGKILL when a task process is stopped. @default 5 */
    killGraceSeconds: z.number().min(0).max(600).default(5),
    /**
     * How often running tasks are checked for cancellation (one control call for all of them);
     * a cancelled task stops within about this long. Not below 0.5 s: each check is a call.
     * @default 5
     */
    cancelPollIntervalSeconds: z.number().min(0.5).max(3_600).default(5),
    /**
     * How often a running task's output tails are published for `ferry logs --follow` (one
     * store write, only when the output changed; none for a task that ends sooner). 0: never.
     * @default 3
     */
    liveLogIntervalSeconds: z
      .number()
      .min(0)
      .max(3_600)
      .refine((s) => s === 0 || s >= 0.5, { message: "must be 0 (off) or at least 0.5" })
      .default(3),
    /** Long-poll wait of each receive. @default 20 */
    pollWaitSeconds: z.number().int().min(1).max(20).default(20),
    /**
     * How long a session's result queue may refuse a result, or answer that it does not exist,
     * before the agent believes it and parks the result with the control plane (where the
     * session's client collects it) instead. AWS's own windows: about 1 s for a new queue, up
     * to 60 s for a deleted one; the result waits in the spool meanwhile, never in a slot.
     * @default 20
     */
    replyRefusalWindowSeconds: z.number().min(0).max(3_600).default(20),
    /**
     * Store policy of results, per topic ("*": every other topic): over thresholdBytes a
     * result goes by reference through the backend.
     * @default s3 past what a queue message carries inline, else inline
     */
    storePolicies: z.record(z.string(), z.unknown()).default({}),
    /** This site's mount of the shared store directory, for `file` references. */
    storeFileDir: z.string().min(1).optional(),
    /**
     * Redis servers (`host:port`) this agent may read arguments from and store results on: a
     * task naming any other is refused, never connected to on its word.
     * @default [] (no redis backend)
     */
    storeRedisServers: z.array(RedisServer).default([]),
  })
  .superRefine((c, ctx) => {
    if (c.gpuIds.length > 0 && c.workers !== undefined && c.workers !== c.gpuIds.length) {
      ctx.addIssue({
        code: "custom",
        path: ["workers"],
        message: `must equal the number of gpuIds (${c.gpuIds.length}): one task runs per GPU`,
      });
    }
    if (new Set(c.gpuIds).size !== c.gpuIds.length) {
      ctx.addIssue({ code: "custom", path: ["gpuIds"], message: "ids must be distinct" });
    }
  });
export type SiteConfigInput = z.input<typeof SiteConfigSchema>;

/** A validated site config with every default filled in. */
export interface SiteConfig {
  endpointId: string | undefined;
  workers: number;
  maxIdleWorkers: number;
  prefetchTasks: number;
  gpuIds: string[];
  allowedFunctions: string[] | undefined;
  passEnv: string[];
  scratchDir: string;
  cacheDir: string;
  spoolDir: string;
  defaultWalltimeSeconds: number;
  visibilityTimeoutSeconds: number;
  heartbeatIntervalSeconds: number;
  shutdownGraceSeconds: number;
  killGraceSeconds: number;
  cancelPollIntervalSeconds: number;
  liveLogIntervalSeconds: number;
  pollWaitSeconds: number;
  replyRefusalWindowSeconds: number;
  storePolicies: StorePolicies;
  storeFileDir: string | undefined;
  storeRedisServers: string[];
}

/**
 * Read, merge and validate a site config. Without a path, the overrides and defaults alone.
 * Errors name the file and the bad field.
 */
export async function loadSiteConfig(
  path: string | undefined,
  overrides: Partial<SiteConfigInput> = {},
): Promise<SiteConfig> {
  const fromFile = path === undefined ? {} : await readConfigFile(path);
  const merged = { ...fromFile, ...dropUndefined(overrides) };
  const where = path === undefined ? "site config" : `site config ${path}`;
  const parsed = SiteConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join(".") : "(top level)";
    throw new ConfigError(`${where}: ${field}: ${issue?.message ?? "invalid"}`, {
      hint: "fix the field or remove it to take the default",
    });
  }
  try {
    return withDefaults(parsed.data);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new ConfigError(`${where}: ${error.message}`, {
        cause: error,
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
    throw error;
  }
}

/**
 * A local directory of the site config (scratch, cache, spool): `~` and `~/...` are the agent
 * user's home, as a shell would read them (YAML leaves them literal, and a `~` folder would
 * appear in the cwd).
 */
function sitePath(path: string): string {
  if (path === "~") return homedir();
  return resolve(path.startsWith("~/") ? join(homedir(), path.slice(2)) : path);
}

/** Every default that depends on the machine or the environment, in one place. */
export function withDefaults(c: z.output<typeof SiteConfigSchema>): SiteConfig {
  const home = loadEnv().home;
  const workers = c.workers ?? (c.gpuIds.length > 0 ? c.gpuIds.length : availableParallelism());
  return {
    endpointId: c.endpointId,
    workers,
    maxIdleWorkers: c.maxIdleWorkers ?? 2 * workers,
    prefetchTasks: c.prefetchTasks ?? Math.min(workers, 10),
    gpuIds: c.gpuIds,
    allowedFunctions: c.allowedFunctions,
    passEnv: c.passEnv,
    scratchDir: sitePath(c.scratchDir ?? join(tmpdir(), "ferry-scratch")),
    cacheDir: sitePath(c.cacheDir ?? join(home, "cache")),
    spoolDir: sitePath(c.spoolDir ?? join(home, "spool")),
    defaultWalltimeSeconds: c.defaultWalltimeSeconds,
    visibilityTimeoutSeconds: c.visibilityTimeoutSeconds,
    heartbeatIntervalSeconds: c.heartbeatIntervalSeconds,
    shutdownGraceSeconds: c.shutdownGraceSeconds,
    killGraceSeconds: c.killGraceSeconds,
    cancelPollIntervalSeconds: c.cancelPollIntervalSeconds,
    liveLogIntervalSeconds: c.liveLogIntervalSeconds,
    pollWaitSeconds: c.pollWaitSeconds,
    replyRefusalWindowSeconds: c.replyRefusalWindowSeconds,
    storePolicies: resolvePolicies(c.storePolicies, c.storeFileDir),
    storeFileDir: c.storeFileDir === undefined ? undefined : resolve(c.storeFileDir),
    storeRedisServers: c.storeRedisServers,
  };
}

/** Validate each topic's policy (core's rules); a file policy must use this site's mount. */
function resolvePolicies(
  input: Record<string, unknown>,
  storeFileDir: string | undefined,
): StorePolicies {
  const policies: Record<string, StorePolicy> = {};
  for (const [topic, raw] of Object.entries(input)) {
    const policy = resolveStorePolicy(raw, `storePolicies.${topic}`);
    if (policy.backend === "file" && storeFileDir && policy.fileDir !== resolve(storeFileDir)) {
      throw new ConfigError(
        `storePolicies.${topic}.fileDir: must be storeFileDir (${storeFileDir}), this site's mount`,
      );
    }
    policies[topic] = policy;
  }
  return policies;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new ConfigError(`cannot read site config ${path}`, { cause });
  }
  const ext = extname(path).toLowerCase();
  try {
    const value: unknown = ext === ".yaml" || ext === ".yml" ? parseYaml(text) : JSON.parse(text);
    if (value === null || value === undefined) return {};
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new Error("the top level must be an object of settings");
    }
    return value as Record<string, unknown>;
  } catch (cause) {
    const what = ext === ".yaml" || ext === ".yml" ? "YAML" : "JSON";
    throw new ConfigError(`site config ${path} is not valid ${what}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
