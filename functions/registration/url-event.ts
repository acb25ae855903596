import type { ControlErrorBody, ControlResponse } from "#core/protocol/index.ts";
import type { Caller } from "./caller.ts";

/** What a Lambda function URL handler returns (payload format 2.0). */
export interface UrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

interface UrlEvent {
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: {
    http: { method?: string };
    authorizer?: { iam?: { userArn?: string; userId?: string } };
  };
}

function isUrlEvent(event: unknown): event is UrlEvent {
  const ctx = (event as { requestContext?: { http?: unknown } } | null)?.requestContext;
  return typeof ctx === "object" && ctx !== null && typeof ctx.http === "object";
}

/**
 * A function URL call: its body and the caller Lambda authenticated (AWS_IAM auth puts the
 * caller's ARN and user id in the event; nobody can put them in the body). Undefined for a
 * direct Invoke. A URL call without an IAM identity (a URL deployed without AWS_IAM auth) is
 * refused rather than treated as anyone.
 */
export function fromUrlEvent(
  event: unknown,
): { body: unknown; caller: Caller } | { refused: ControlErrorBody } | undefined {
  if (!isUrlEvent(event)) return undefined;
  const iam = event.requestContext.authorizer?.iam;
  if (!iam?.userArn || !iam.userId) {
    return {
      refused: {
        type: "Forbidden",
        message:
          "the registration function URL was called without an IAM identity: deploy it with AWS_IAM auth",
      },
    };
  }
  const raw = event.body ?? "";
  const body = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  return { body, caller: { kind: "principal", arn: iam.userArn, userId: iam.userId } };
}

export function toUrlResponse(response: ControlResponse): UrlResponse {
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(response),
  };
}
