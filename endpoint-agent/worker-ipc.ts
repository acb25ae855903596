import { z } from "zod";
import { Payload, StoreRef } from "#core/protocol/index.ts";

/**
 * Messages between the agent and a node worker. The channel uses Node's "advanced"
 * (structured clone) serialization, so inline args and values keep typed arrays, Dates and
 * bigints; large ones do not use the channel at all (worker-data.ts). The envelope is still
 * checked on both sides.
 */

/**
 * Arguments stored by reference, which the worker reads itself: from this file-store directory
 * (the shared store, or an S3 object the agent staged there), or from S3 through a presigned
 * GET URL for that one object (the worker holds no AWS credentials).
 */
export const ArgsRef = z.union([
  z.object({ ref: StoreRef, dir: z.string().min(1) }),
  z.object({ ref: StoreRef, url: z.url() }),
]);
export type ArgsRef = z.infer<typeof ArgsRef>;

/** How the worker stores the result itself: the topic's policy and a staging directory. */
export const ResultSpec = z.object({
  topic: z.string(),
  policy: z.discriminatedUnion("backend", [
    z.object({ backend: z.enum(["s3", "none"]), thresholdBytes: z.number().int().nonnegative() }),
    z.object({
      backend: z.literal("file"),
      thresholdBytes: z.number().int().nonnegative(),
      fileDir: z.string().min(1),
    }),
  ]),
  /** Where an object bound for S3 is written for the agent to upload. */
  stageDir: z.string().min(1),
  /** The session owner's part of the shared store, for the file backend. */
  owner: z.string().max(256).optional(),
});
export type ResultSpec = z.infer<typeof ResultSpec>;

/** Parent -> node worker: run one task. */
export const RunRequest = z.object({
  type: z.literal("run"),
  taskId: z.string(),
  /** Absolute path of the cached, hash-checked bundle. */
  bundlePath: z.string(),
  /** Inline arguments; ignored when argsRef is given. */
  args: z.unknown(),
  argsRef: ArgsRef.optional(),
  /** Unset: the value comes back over the channel and the agent encodes it. */
  result: ResultSpec.optional(),
});
export type RunRequest = z.infer<typeof RunRequest>;

export const ParentMessage = z.discriminatedUnion("type", [RunRequest]);

const ErrorInfo = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
});

/** Node worker -> parent: the outcome of one task. */
export const RunReply = z.discriminatedUnion("ok", [
  z.object({
    type: z.literal("done"),
    taskId: z.string(),
    ok: z.literal(true),
    /** The value itself (no result spec) ... */
    value: z.unknown(),
    /** ... or, with one, the encoded result. */
    encoded: z
      .object({
        payload: Payload,
        staged: z.boolean(),
        serializeMs: z.number().nonnegative(),
        storeMs: z.number().nonnegative(),
      })
      .optional(),
    /** When the arguments were read, if the worker read them (epoch ms). */
    inputsResolved: z.number().optional(),
  }),
  z.object({
    type: z.literal("done"),
    taskId: z.string(),
    ok: z.literal(false),
    error: ErrorInfo,
    /** Where it failed: reading the arguments, the function, or storing its result. */
    stage: z.enum(["args", "function", "result"]).default("function"),
  }),
]);
export type RunReply = z.infer<typeof RunReply>;

export const WorkerMessage = z.union([z.object({ type: z.literal("ready") }), RunReply]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;
