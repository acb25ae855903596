import { randomUUID } from "node:crypto";
import { realpath, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { describeError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import type { Payload, StoreRef, TaskMessage } from "#core/protocol/index.ts";
import {
  createFileStore,
  newLocation,
  resolveInside,
  type StorePolicy,
} from "#core/store/index.ts";
import { type EncodedResult, resultPolicyFor, storeWithRetries } from "./result-encoding.ts";
import type { TaskContext } from "./task-context.ts";
import type { WorkerEncoded } from "./worker-data.ts";
import type { ArgsRef, ResultSpec } from "./worker-ipc.ts";

/** Variables that route HTTP through a proxy; a worker has only those its site passes on. */
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] as const;

/**
 * Whether a worker reaches S3 the way the agent does: not when the agent goes through a proxy
 * its workers are not given (site config `passEnv`), as on HPC nodes without a route out.
 */
export function workersReachStore(
  passEnv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return PROXY_VARIABLES.every((name) => !env[name] || passEnv.includes(name));
}

/**
 * How long a presigned argument URL stays valid. The worker starts reading at once; every
 * ranged GET must start before it expires, so large objects get a second per MB more.
 */
export function presignSeconds(size: number): number {
  return Math.min(7 * 24 * 3600, 15 * 60 + Math.ceil(size / 1_000_000));
}

/**
 * The agent's side of a node task's large data (see worker-data.ts): arguments are handed to
 * the worker as a presigned URL or a file to read, results come back stored. A task's staging
 * directory holds what passes through local disk on the way to S3 (and from it, when the
 * worker cannot reach S3 itself).
 */
export class TaskData {
  readonly #ctx: TaskContext;
  readonly #taskId: string;
  #stageDir: string | undefined;
  /** Something may have been written there (else close() skips the filesystem). */
  #staged = false;

  constructor(ctx: TaskContext, taskId: string) {
    this.#ctx = ctx;
    this.#taskId = taskId;
  }

  /**
   * The staging directory's path. Not created here: whoever writes first creates it (the file
   * store does), so the many tasks that stage nothing pay no directory round trip.
   */
  #stage(): string {
    this.#stageDir ??= join(
      this.#ctx.config.scratchDir,
      `${this.#taskId}-data-${randomUUID().slice(0, 8)}`,
    );
    return this.#stageDir;
  }

  /**
   * Where the worker reads arguments stored by reference: the shared file store as it is; an
   * S3 object through a presigned GET URL (one transfer, hashed as it streams, nothing on
   * local disk); or, when the worker could not reach S3 as the agent does, fetched (verified)
   * into the staging directory. Undefined: inline arguments, or no store here for them (the
   * agent decodes them and reports the error as before).
   */
  async argsRef(args: Payload): Promise<ArgsRef | undefined> {
    if (!("ref" in args)) return undefined;
    const { ref } = args;
    const { file, s3 } = this.#ctx.stores;
    if (ref.store === "file") return file ? { ref, dir: file.dir } : undefined;
    // A worker gets no Redis connection (it runs untrusted code): the agent decodes them.
    if (ref.store === "redis") return undefined;
    if (!s3) return undefined;
    if (s3.presignGet && workersReachStore(this.#ctx.config.passEnv)) {
      // Scoped to this one key, for a short while: all the worker gets, never credentials.
      return { ref, url: await s3.presignGet(ref, presignSeconds(ref.size)) };
    }
    const dir = this.#stage();
    this.#staged = true;
    if (s3.getToFile) {
      // Streamed to disk, verified on the way: the object never sits whole in the agent.
      const location = newLocation(ref.codec, false);
      await s3.getToFile(ref, join(dir, location));
      return { ref: { ...ref, store: "file", location }, dir };
    }
    const bytes = await s3.get(ref);
    const staged = await createFileStore({ dir, fsync: false }).put(bytes, { codec: ref.codec });
    return { ref: staged, dir };
  }

  /** How the worker stores the result, when this agent could store it the same way. */
  resultSpec(
    topic: string,
    fromTask: TaskMessage["resultStore"],
    owner?: string,
  ): ResultSpec | undefined {
    const { file, s3 } = this.#ctx.stores;
    const policy: StorePolicy = resultPolicyFor(
      this.#ctx.config.storePolicies,
      topic,
      fromTask,
      file?.dir,
    );
    if (policy.backend === "file" && (!file || resolve(policy.fileDir) !== file.dir))
      return undefined;
    if (policy.backend === "s3" && !s3) return undefined;
    // A worker gets no Redis connection (it runs untrusted code): the agent stores the result.
    if (policy.backend === "redis") return undefined;
    return { topic, policy, stageDir: this.#stage(), ...(owner === undefined ? {} : { owner }) };
  }

  /** The result payload: as the worker stored it, or its staged object uploaded to S3. */
  async finish(
    encoded: WorkerEncoded,
    options: { signal: AbortSignal; logger: Logger; owner?: string | undefined },
  ): Promise<EncodedResult> {
    const { payload, serializeMs, storeMs } = encoded;
    if (!encoded.staged || !("ref" in payload)) return { ok: true, payload, serializeMs, storeMs };
    const s3 = this.#ctx.stores.s3;
    const stageDir = this.#stageDir;
    if (!s3 || !stageDir) {
      return {
        ok: false,
        error: {
          type: "Internal",
          message: "result: staged without an S3 store",
          retriable: false,
        },
      };
    }
    const started = performance.now();
    const staged = payload.ref;
    // The worker runs untrusted code: its reply may name any path. Only a file inside this
    // task's staging directory is uploaded, and its size and sha256 are recomputed on the way.
    let path: string;
    try {
      path = await resolveInside(await realpath(stageDir), staged.location);
    } catch (error) {
      const message = `the worker's reply names a staged result the agent refuses: ${describeError(error)}`;
      return { ok: false, error: { type: "Refused", message, retriable: false } };
    }
    const upload = async (): Promise<StoreRef> => {
      const put = { codec: staged.codec, temporary: true, owner: options.owner };
      if (s3.putFile) return s3.putFile(path, { ...put, size: staged.size, sha256: staged.sha256 });
      return s3.put(await createFileStore({ dir: stageDir, fsync: false }).get(staged), put);
    };
    return storeWithRetries(
      async () => {
        const ref = await upload();
        const uploadMs = performance.now() - started;
        return { ok: true, payload: { ref }, serializeMs, storeMs: storeMs + uploadMs };
      },
      "s3",
      options,
    );
  }

  /** Remove the staging directory (idempotent). */
  /**
   * Remove the staging directory (idempotent). A task whose worker replied without staging
   * anything skips it: most tasks stage nothing, and the removal was a share of their cost.
   */
  async close(logger: Logger, outcome?: { encoded?: WorkerEncoded }): Promise<void> {
    const dir = this.#stageDir;
    this.#stageDir = undefined;
    const replied = outcome !== undefined;
    if (!this.#staged && replied && !outcome.encoded?.staged) return;
    if (dir)
      await rm(dir, { recursive: true, force: true }).catch((err: unknown) =>
        logger.warn({ err, dir }, "cannot remove a task's staging dir"),
      );
  }
}
