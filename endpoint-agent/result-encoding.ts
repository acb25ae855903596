import { backoffDelayMs, sleep } from "#core/backoff.ts";
import { FerryError } from "#core/errors.ts";
import type { Logger } from "#core/logger.ts";
import type { Payload, TaskError, TaskMessage } from "#core/protocol/index.ts";
import {
  encodePayload,
  MAX_INLINE_BYTES,
  type StorePolicies,
  type StorePolicy,
  type Stores,
} from "#core/store/index.ts";

/**
 * Without a policy for the topic (nor "*"), results stay inline as long as a queue message
 * can carry them, and larger ones go to S3: clients that cannot read references yet keep
 * working, and large results still arrive.
 */
export const AGENT_DEFAULT_POLICY: StorePolicy = {
  backend: "s3",
  thresholdBytes: MAX_INLINE_BYTES,
};

/**
 * The policy for a task's result: the site's for the topic, else the site's "*", else the
 * one the client sent with the task (its file backend at this site's mount, when it has one),
 * else the default. The site decides first: its operators know what it can reach.
 */
export function resultPolicyFor(
  policies: StorePolicies,
  topic: string,
  fromTask?: TaskMessage["resultStore"],
  siteFileDir?: string,
): StorePolicy {
  // Own keys only: a topic named "constructor" must not find Object.prototype's member.
  const own = (key: string) => (Object.hasOwn(policies, key) ? policies[key] : undefined);
  const site = own(topic) ?? own("*");
  if (site) return site;
  if (fromTask?.backend === "file") {
    return siteFileDir === undefined
      ? AGENT_DEFAULT_POLICY
      : { backend: "file", thresholdBytes: fromTask.thresholdBytes, fileDir: siteFileDir };
  }
  if (fromTask?.backend === "redis") {
    // The server is only the task's word: the redis store refuses one the site does not allow.
    const { thresholdBytes, server } = fromTask;
    return server === undefined
      ? AGENT_DEFAULT_POLICY
      : { backend: "redis", thresholdBytes, server };
  }
  if (fromTask) return { backend: fromTask.backend, thresholdBytes: fromTask.thresholdBytes };
  return AGENT_DEFAULT_POLICY;
}

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
  options: {
    policies: StorePolicies;
    stores: Stores;
    signal: AbortSignal;
    logger: Logger;
    /** The client's policy sent with the task. */
    fromTask?: TaskMessage["resultStore"];
    /** The session owner's part of the store (the task's objectOwner). */
    owner?: string | undefined;
  },
): Promise<EncodedResult> {
  const policy = resultPolicyFor(
    options.policies,
    topic,
    options.fromTask,
    options.stores.file?.dir,
  );
  return storeWithRetries(
    async () => {
      const encoded = await encodePayload(value, {
        topic,
        policies: { [topic]: policy },
        stores: options.stores,
        temporary: true,
        owner: options.owner,
      });
      const { payload, serializeMs, storeMs } = encoded;
      return { ok: true, payload, serializeMs, storeMs };
    },
    policy.backend,
    options,
  );
}

/**
 * Try to store a result up to STORE_ATTEMPTS times with backoff. Policy and encoding errors
 * (non-retriable FerryErrors) are final at once; a failed upload may pass on a later try.
 */
export async function storeWithRetries(
  attempt: () => Promise<EncodedResult>,
  backend: string,
  options: { signal: AbortSignal; logger: Logger },
): Promise<EncodedResult> {
  let lastError: unknown;
  for (let i = 0; i < STORE_ATTEMPTS; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof FerryError && !error.retriable) {
        return {
          ok: false,
          error: { type: "Internal", message: `result: ${error.toOneLine()}`, retriable: false },
        };
      }
      lastError = error;
      options.logger.warn({ err: error, attempt: i }, "cannot store the result; retrying");
      if (!(await sleep(backoffDelayMs(i, { baseMs: 500, capMs: 5_000 }), options.signal))) {
        break;
      }
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  return {
    ok: false,
    error: {
      type: "Internal",
      message: `the result could not be stored (${backend}): ${reason}`,
      retriable: true,
    },
  };
}
