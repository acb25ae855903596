import { RefusedError } from "../errors.ts";

/** SQS's largest message; Ferry creates its queues with this MaximumMessageSize. */
export const MAX_MESSAGE_BYTES = 1_048_576;
/** Room kept for the envelope around an inline payload: ids, queue URL, timings, tails. */
export const ENVELOPE_RESERVE_BYTES = 32_768;
/** The largest inline payload encodePayload lets through by default. */
export const MAX_INLINE_BYTES = MAX_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES;

export function tooLargeError(what: string, bytes: number, limit: number, topic: string) {
  return new RefusedError(
    `${what} for topic "${topic}" is ${bytes} bytes, over the ${limit} bytes an SQS message can carry inline`,
    {
      context: { topic, bytes },
      hint: `enable a store for topic "${topic}" (backend s3 or file, threshold under 1 MiB) so large values travel by reference`,
    },
  );
}

/**
 * Refuse a message body SQS would reject, before anything is sent. Call it on the serialized
 * message (task or result); `attributesBytes` counts message attributes, which SQS adds in.
 */
export function assertMessageFits(
  body: string,
  options: { topic: string; what?: string; attributesBytes?: number },
): void {
  const bytes = Buffer.byteLength(body, "utf8") + (options.attributesBytes ?? 0);
  if (bytes > MAX_MESSAGE_BYTES) {
    throw tooLargeError(options.what ?? "message", bytes, MAX_MESSAGE_BYTES, options.topic);
  }
}
