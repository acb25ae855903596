import { z } from "zod";

/** Wire protocol version carried by every message as `v`. */
export const PROTOCOL_VERSION = 1 as const;
export const Version = z.literal(PROTOCOL_VERSION, {
  error: `unsupported protocol version; this Ferry speaks v${PROTOCOL_VERSION}: upgrade the older side`,
});

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase hex sha256");

/** Names of functions and endpoints: safe in S3 keys, queue names and file paths. */
export const SafeName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "use letters, digits, '.', '_' and '-' only");

export const Uuid = z.uuid();

/** Milliseconds since the epoch; all timings are wall-clock ms so sites can be compared. */
export const EpochMs = z.number().int().nonnegative();
