import { z } from "zod";
import { EpochMs, Uuid, Version } from "./common.ts";
import { ErrorType } from "./result.ts";

/** Bytes of each stream a live log keeps: the last 64 KiB, so one object stays small. */
export const LIVE_TAIL_BYTES = 65_536;

/**
 * The end of one output stream: `text` is the stream's bytes `[end - byteLength(text), end)`,
 * cut at UTF-8 character boundaries, so a reader that remembers how far it printed can print
 * exactly what is new in the next record.
 */
export const LiveStream = z.object({
  // UTF-8 is at most 4 bytes a character but a JS string counts UTF-16 units: bytes bound it.
  text: z.string().max(LIVE_TAIL_BYTES),
  end: z.number().int().nonnegative(),
});
export type LiveStream = z.infer<typeof LiveStream>;

/**
 * A running task's output so far, written by the agent to the store (`tmp/<objectOwner>/logs/
 * <sessionId>/<taskId>.json`) while the task runs and once more when it ends. One object per
 * task, overwritten: S3 reads after a write see the new object.
 */
export const LiveLogRecord = z.object({
  v: Version,
  taskId: Uuid,
  sessionId: Uuid,
  endpointId: Uuid,
  /** The attempt (receive count) writing it: a later attempt's output starts again at 0. */
  attempt: z.number().int().min(1),
  /** When the agent wrote it (the agent's clock). */
  at: EpochMs,
  /** `ended`: the attempt is over; `ok` and `error` say how, as its result will. */
  state: z.enum(["running", "ended"]),
  ok: z.boolean().optional(),
  error: z.object({ type: ErrorType, message: z.string() }).optional(),
  stdout: LiveStream,
  stderr: LiveStream,
});
export type LiveLogRecord = z.infer<typeof LiveLogRecord>;
