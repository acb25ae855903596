/**
 * What an AWS error means for the caller, from the SDK's error name and HTTP status. One place
 * for it: the agent's result delivery, the client's sends and listener, and the registration
 * function all decide "retry, wait for consistency, or give up" from the same answer.
 *
 * - `aborted`: our own signal stopped the call.
 * - `transient`: throttling, a 5xx, a reset or timeout: the same call may succeed later.
 * - `queue-missing`: SQS says the queue does not exist. On AWS that is also what a queue
 *   answers for about a second after CreateQueue, and what a deleted one answers, so it is
 *   retried for a while before it is believed.
 * - `refused`: any other 4xx (AccessDenied, InvalidParameterValue, ...): the same request will
 *   be refused again, though credentials or IAM changes can still make a later one pass.
 */
export type AwsFailure = "aborted" | "transient" | "queue-missing" | "refused";

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "SlowDown",
  "RequestLimitExceeded",
  "ProvisionedThroughputExceededException",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "EC2ThrottledException",
  "TransactionInProgressException",
]);

interface AwsLikeError {
  name?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The error's code without SQS's `AWS.SimpleQueueService.` wire prefix. */
export function awsErrorCode(err: unknown): string {
  const e = (err ?? {}) as AwsLikeError;
  const raw = [e.name, e.Code, e.code].find((v) => typeof v === "string" && v !== "Error") ?? "";
  return raw.replace(/^AWS\.SimpleQueueService\./, "");
}

export function classifyAwsError(err: unknown): AwsFailure {
  const e = (err ?? {}) as AwsLikeError;
  const code = awsErrorCode(err);
  if (code === "AbortError" || e.name === "AbortError") return "aborted";
  if (code === "QueueDoesNotExist" || code === "NonExistentQueue") return "queue-missing";
  if (THROTTLING.has(code)) return "transient";
  const status = e.$metadata?.httpStatusCode;
  // No status: the request never got an answer (reset, refused, DNS, timeout).
  if (status === undefined || status === 429 || status >= 500) return "transient";
  if (status >= 400) return "refused";
  return "transient";
}

/** Whether SQS answered that the queue does not exist (never created, deleted, or not yet usable). */
export function isQueueMissing(err: unknown): boolean {
  return classifyAwsError(err) === "queue-missing";
}

/** Whether an SQS error carries this code, named either way (`X` or `AWS.SimpleQueueService.X`). */
export function hasAwsCode(err: unknown, code: string): boolean {
  return awsErrorCode(err) === code;
}
