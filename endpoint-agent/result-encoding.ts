import { FerryError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import type { Payload, TaskError } from "#core/protocol/index.ts";
import {
  encodePayload,
  MAX_INLINE_BYTES,
  type StorePolicies,
  type StorePolicy,
  type Stores,
} from "#core/store/index.ts";
import { backoffDelayMs, sleep } from "./backoff.ts";

/**
 * Without a policy for the topic (nor "*"), results stay inline as long as a queue message
 * can carry them, and larger ones go to S3: clients that cannot read references yet keep
 * working, and large results still arrive.
 */
export const AGENT_DEFAULT_POLICY: StorePolicy = {
  backend: "s3",
  thresholdBytes: MAX_INLINE_BYTES,
};

/** Puts of a result tried before the task is reported failed. */
const STORE_ATTEMPTS = 3;

export type EncodedResult =
  | { ok: true; payload: Payload; serializeMs: number; storeMs: number }
  | { ok: false; error: TaskError };

/**
 * A function's value as a result payload under its topic's policy: inline, or stored by
 * reference as a temporary object (its reader deletes it; the bucket lifecycle the rest).
 */
export async function encodeResult(
  value: unknown,
  topic: string,
  options: { policies: StorePolicies; stores: Stores; signal: AbortSignal; logger: Logger },
): Promise<EncodedResult> {
  // Own keys only: a topic named "constructor" must not find Object.prototype's member.
  const own = (key: string) =>
    Object.hasOwn(options.policies, key) ? options.policies[key] : undefined;
  const policy = own(topic) ?? own("*") ?? AGENT_DEFAULT_POLICY;
  let lastError: unknown;
  for (let attempt = 0; attempt < STORE_ATTEMPTS; attempt++) {
    try {
      const encoded = await encodePayload(value, {
        topic,
        policies: { [topic]: policy },
        stores: options.stores,
        temporary: true,
      });
      return {
        ok: true,
        payload: encoded.payload,
        serializeMs: encoded.serializeMs,
        storeMs: encoded.storeMs,
      };
    } catch (error) {
      // Policy and encoding errors are final; a failed upload may pass.
      if (error instanceof FerryError && !error.retriable) {
        return {
          ok: false,
          error: { type: "Internal", message: `result: ${error.toOneLine()}`, retriable: false },
        };
      }
      lastError = error;
      options.logger.warn({ err: error, attempt }, "cannot store the result; retrying");
      if (!(await sleep(backoffDelayMs(attempt, { baseMs: 500, capMs: 5_000 }), options.signal))) {
        break;
      }
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  return {
    ok: false,
    error: {
      type: "Internal",
      message: `the result could not be stored (${policy.backend}): ${reason}`,
      retriable: true,
    },
  };
}
