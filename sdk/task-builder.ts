import { ConfigError } from "#core/errors.ts";
import { newTaskId } from "#core/ids.ts";
import {
  type FunctionRef,
  MAX_WALLTIME_SECONDS,
  PROTOCOL_VERSION,
  type SessionRecord,
  TaskMessage,
} from "#core/protocol/index.ts";
import {
  assertMessageFits,
  encodePayload,
  type StorePolicies,
  type Stores,
} from "#core/store/index.ts";

/** One task for Executor.submitMany: which function runs, on what, where, within what limits. */
export interface TaskSpec {
  /**
   * A registered function's name. The executor asks once for its current version (content hash),
   * and agents run exactly that version.
   */
  function: string;
  /**
   * The function's argument. Plain JSON goes inline up to the topic's threshold, by reference
   * past it; typed arrays, Dates, bigints and the like go by reference (msgpack). `undefined`
   * arrives as `null`.
   */
  args: unknown;
  /** The endpoint's UUID (resolveEndpointId turns a registered name into one). */
  endpointId: string;
  /**
   * Picks the store policy for the arguments and the result, and is reported with the result.
   * @default "default"
   */
  topic?: string;
  /**
   * How long the task may run before the agent stops it and reports a `Timeout` error; 1 to
   * 39,600 s (11 h), else refused before anything is sent.
   * @default ExecutorOptions.walltimeSeconds, else 3_600
   */
  walltimeSeconds?: number;
  /**
   * How many deliveries the task may have: an agent that stops before reporting (crash, kill)
   * uses one. A function that fails is reported as it is, not retried. 1 to 100.
   * @default ExecutorOptions.maxAttempts, else 3
   */
  maxAttempts?: number;
}

export interface TaskDefaults {
  storePolicies?: StorePolicies | undefined;
  stores?: Stores | undefined;
  walltimeSeconds?: number | undefined;
  maxAttempts?: number | undefined;
}

/**
 * One task message, ready to send: its arguments encoded under the topic's store policy (by
 * reference past the threshold, in the session owner's part of the store), validated, and
 * checked to fit a queue message. Refuses a walltime SQS cannot hold before anything is stored.
 */
export async function buildTask(
  session: SessionRecord,
  spec: TaskSpec,
  ref: FunctionRef,
  defaults: TaskDefaults,
): Promise<{ task: TaskMessage; body: string }> {
  const topic = spec.topic ?? "default";
  const walltimeSeconds = spec.walltimeSeconds ?? defaults.walltimeSeconds ?? 3_600;
  checkWalltime(walltimeSeconds);
  const encoded = await encodePayload(spec.args, {
    topic,
    policies: defaults.storePolicies ?? {},
    stores: defaults.stores ?? {},
    temporary: true,
    // The session's owner's part of the store: the only one IAM lets this client reach.
    owner: session.ownerId,
  });
  const now = Date.now();
  const task = TaskMessage.parse({
    v: PROTOCOL_VERSION,
    taskId: newTaskId(),
    sessionId: session.sessionId,
    endpointId: spec.endpointId,
    function: ref,
    topic,
    args: encoded.payload,
    ...resultStoreOf(defaults.storePolicies, topic),
    replyTo: session.resultQueueUrl,
    ...(session.ownerId === undefined ? {} : { objectOwner: session.ownerId }),
    walltimeSeconds,
    maxAttempts: spec.maxAttempts ?? defaults.maxAttempts ?? 3,
    created: now,
    sent: now,
  });
  const body = JSON.stringify(task);
  assertMessageFits(body, { topic, what: "task message" });
  return { task, body };
}

/** The topic's policy as the task's resultStore, when the client chose one for it. */
function resultStoreOf(policies: StorePolicies | undefined, topic: string) {
  const policy = policies && Object.hasOwn(policies, topic) ? policies[topic] : undefined;
  return policy
    ? {
        resultStore: {
          backend: policy.backend,
          thresholdBytes: policy.thresholdBytes,
          ...(policy.backend === "redis" ? { server: policy.server } : {}),
        },
      }
    : {};
}

/** A walltime SQS can hold a task for, refused with the reason otherwise (before anything is sent). */
function checkWalltime(walltimeSeconds: number): void {
  if (
    Number.isInteger(walltimeSeconds) &&
    walltimeSeconds > 0 &&
    walltimeSeconds <= MAX_WALLTIME_SECONDS
  )
    return;
  throw new ConfigError(
    `walltime ${walltimeSeconds} s: a task runs for 1 to ${MAX_WALLTIME_SECONDS} s (11 h)`,
    {
      hint: "SQS keeps a running task's message for at most 12 h, and Ferry keeps an hour of that for staging and delivery: split longer work into tasks that checkpoint",
    },
  );
}
