import { z } from "zod";
import { EpochMs, SafeName, Sha256, Uuid, Version } from "./common.ts";
import { Payload } from "./payload.ts";

export const FunctionRef = z.object({ name: SafeName, sha256: Sha256 });
export type FunctionRef = z.infer<typeof FunctionRef>;

/** 12 h: SQS's longest visibility timeout is the natural ceiling for one task attempt. */
export const MAX_WALLTIME_SECONDS = 43_200;

export const TaskMessage = z.object({
  v: Version,
  taskId: Uuid,
  sessionId: Uuid,
  endpointId: Uuid,
  function: FunctionRef,
  /** Task type, used for routing results and store policies (simulate, train, infer...). */
  topic: SafeName.default("default"),
  args: Payload,
  /**
   * The client's store policy for this topic, which the agent follows for the result unless
   * its site config sets one (the file backend uses the agent's own mount of the shared dir).
   */
  resultStore: z
    .object({
      backend: z.enum(["s3", "file", "none"]),
      thresholdBytes: z.number().int().nonnegative(),
    })
    .optional(),
  /** The session's result queue URL. */
  replyTo: z.string().min(1),
  walltimeSeconds: z.number().int().positive().max(MAX_WALLTIME_SECONDS).default(3_600),
  maxAttempts: z.number().int().min(1).max(100).default(3),
  resources: z
    .object({
      cpus: z.number().int().min(1).default(1),
      gpus: z.number().int().min(0).default(0),
    })
    .default({ cpus: 1, gpus: 0 }),
  created: EpochMs,
  sent: EpochMs,
});
export type TaskMessage = z.infer<typeof TaskMessage>;
export type TaskMessageInput = z.input<typeof TaskMessage>;
