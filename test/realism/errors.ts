import { randomUUID } from "node:crypto";

/** An answer the proxy sends instead of AWS's: status, headers and a small body. */
export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * SQS on the AWS JSON 1.0 protocol with awsQueryCompatible: `__type` names the Smithy shape and
 * `x-amzn-query-error: <query code>;<Sender|Receiver>` carries the legacy code. The SDK reads the
 * header's code first (loadJsonRpcErrorCode with queryCompat) and maps it back to the modeled
 * error through its awsQueryError trait, so both must agree with the SQS model.
 */
function sqsError(status: number, shape: string, queryError: string, message: string) {
  return {
    status,
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amzn-requestid": randomUUID(),
      "x-amzn-query-error": queryError,
    },
    body: JSON.stringify({ __type: `com.amazonaws.sqs#${shape}`, message }),
  } satisfies ErrorReply;
}

export const sqsErrors = {
  /** Modeled as RequestThrottled: awsQueryError ["RequestThrottled", 403], httpError 403. */
  throttled: () =>
    sqsError(403, "RequestThrottled", "RequestThrottled;Sender", "Request is throttled"),
  /** Query-era SQS 500: Code InternalError, Type Receiver; not modeled, so a base exception. */
  internalError: () =>
    sqsError(
      500,
      "InternalError",
      "InternalError;Receiver",
      "We encountered an internal error. Please try again.",
    ),
  serviceUnavailable: () =>
    sqsError(
      503,
      "ServiceUnavailable",
      "ServiceUnavailable;Receiver",
      "The request has failed due to a temporary failure of the server.",
    ),
  /** Modeled: awsQueryError ["AWS.SimpleQueueService.NonExistentQueue", 400]. */
  queueDoesNotExist: () =>
    sqsError(
      400,
      "QueueDoesNotExist",
      "AWS.SimpleQueueService.NonExistentQueue;Sender",
      "The specified queue does not exist.",
    ),
  /** Modeled: awsQueryError ["AWS.SimpleQueueService.QueueDeletedRecently", 400]. */
  queueDeletedRecently: () =>
    sqsError(
      400,
      "QueueDeletedRecently",
      "AWS.SimpleQueueService.QueueDeletedRecently;Sender",
      "You must wait 60 seconds after deleting a queue before you can create another queue with the same name.",
    ),
};

/**
 * Lambda is restJson1: the SDK takes the error name from `x-amzn-errortype` first
 * (loadRestJsonErrorCode), the members from the JSON body.
 */
function lambdaError(status: number, type: string, body: Record<string, string>): ErrorReply {
  return {
    status,
    headers: {
      "content-type": "application/json",
      "x-amzn-requestid": randomUUID(),
      "x-amzn-errortype": type,
    },
    body: JSON.stringify(body),
  };
}

export const lambdaErrors = {
  /** TooManyRequestsException: httpError 429, members retryAfterSeconds, Type, message, Reason. */
  throttled: () =>
    lambdaError(429, "TooManyRequestsException", {
      Reason: "ConcurrentInvocationLimitExceeded",
      Type: "User",
      message: "Rate Exceeded.",
    }),
  /** ServiceException: httpError 500, members Type and Message (capital M in the model). */
  serviceException: () =>
    lambdaError(500, "ServiceException", {
      Type: "Service",
      Message: "An internal error occurred in the Lambda service.",
    }),
};

/**
 * S3 is restXml: `<Error><Code>…` names the error (loadRestXmlErrorCode). A HEAD answer has no
 * body, as S3's does; the SDK then only has the status code to go on, as with real S3.
 */
function s3Error(status: number, code: string, message: string, head: boolean): ErrorReply {
  const requestId = randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();
  const hostId = Buffer.from(randomUUID()).toString("base64");
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<RequestId>${requestId}</RequestId><HostId>${hostId}</HostId></Error>`;
  return {
    status,
    headers: {
      "content-type": "application/xml",
      "x-amz-request-id": requestId,
      "x-amz-id-2": hostId,
    },
    body: head ? "" : xml,
  };
}

export const s3Errors = {
  slowDown: (head: boolean) => s3Error(503, "SlowDown", "Please reduce your request rate.", head),
  internalError: (head: boolean) =>
    s3Error(500, "InternalError", "We encountered an internal error. Please try again.", head),
  serviceUnavailable: (head: boolean) =>
    s3Error(503, "ServiceUnavailable", "Service is unable to handle request.", head),
};

/** The service's throttling answer. */
export function throttleReply(service: "sqs" | "s3" | "lambda", head: boolean): ErrorReply {
  if (service === "sqs") return sqsErrors.throttled();
  if (service === "lambda") return lambdaErrors.throttled();
  return s3Errors.slowDown(head);
}

/** A 5xx in the service's format; `kind` (a draw in [0, 1)) picks 500 or 503 half and half. */
export function serverErrorReply(
  service: "sqs" | "s3" | "lambda",
  head: boolean,
  kind: number,
): ErrorReply {
  const unavailable = kind >= 0.5;
  if (service === "sqs")
    return unavailable ? sqsErrors.serviceUnavailable() : sqsErrors.internalError();
  // Lambda models only ServiceException (500) as its own server fault.
  if (service === "lambda") return lambdaErrors.serviceException();
  return unavailable ? s3Errors.serviceUnavailable(head) : s3Errors.internalError(head);
}
