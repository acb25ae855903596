import { z } from "zod";

/**
 * Messages between the agent and a node worker. The channel uses Node's "advanced"
 * (structured clone) serialization, so args and values keep typed arrays, Dates and bigints
 * that msgpack references carry; the envelope is still checked on both sides.
 */

/** Parent -> node worker: run one task. */
export const RunRequest = z.object({
  type: z.literal("run"),
  taskId: z.string(),
  /** Absolute path of the cached, hash-checked bundle. */
  bundlePath: z.string(),
  args: z.unknown(),
});
export type RunRequest = z.infer<typeof RunRequest>;

export const ParentMessage = z.discriminatedUnion("type", [RunRequest]);

/** Node worker -> parent: the outcome of one task. */
export const RunReply = z.discriminatedUnion("ok", [
  z.object({
    type: z.literal("done"),
    taskId: z.string(),
    ok: z.literal(true),
    value: z.unknown(),
  }),
  z.object({
    type: z.literal("done"),
    taskId: z.string(),
    ok: z.literal(false),
    error: z.object({ name: z.string(), message: z.string(), stack: z.string().optional() }),
  }),
]);
export type RunReply = z.infer<typeof RunReply>;

export const WorkerMessage = z.union([z.object({ type: z.literal("ready") }), RunReply]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;
