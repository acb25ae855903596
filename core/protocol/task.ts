import { z } from "zod";
import { EpochMs, SafeName, Sha256, Uuid, Version } from "./common.ts";
import { Payload } from "./payload.ts";

export const FunctionRef = z.object({ name: SafeName, sha256: Sha256 });
export type FunctionRef = z.infer<typeof FunctionRef>;

/**
 * SQS keeps a received message invisible for at most 12 h in all (ChangeMessageVisibility
 * beyond that is refused), after which another agent receives it again.
 */
export const SQS_VISIBILITY_CEILING_SECONDS = 43_200;

/**
 * 11 h: one attempt's walltime, leaving an hour of SQS's 12-hour ceiling for staging its
 * inputs and delivering its result. Longer work must checkpoint and continue as a new task.
 */
export const MAX_WALLTIME_SECONDS = 39_600;

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
      backend: z.enum(["s3", "file", "redis", "none"]),
      thresholdBytes: z.number().int().nonnegative(),
      /** redis: the server's `host:port`; the agent uses it only if its site allows it. */
      server: z.string().max(262).optional(),
    })
    .optional(),
  /** The session's result queue URL. */
  replyTo: z.string().min(1),
  /**
   * The session owner's IAM user id: results by reference are stored under its part of the
   * store (`tmp/<objectOwner>/`), which only that client (and agents) may read.
   */
  objectOwner: z.string().max(256).optional(),
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
