import type { IncomingMessage } from "node:http";

/** Function URLs of the local Lambda host: `<host>/urls/<function name>/`. */
export const URL_PATH = /^\/urls\/([^/]+)\/?$/;

/** Account id of the local deployment's principals (the emulator's). */
const LOCAL_ACCOUNT_ID = "000000000000";

/**
 * The caller of a function URL request, as AWS_IAM auth would report it: on AWS, Lambda checks
 * the SigV4 signature and looks the access key's principal up. Locally there is no IAM: each
 * access key stands for the IAM user of that name, so `AWS_ACCESS_KEY_ID=alice` and `=bob`
 * are two principals. The signature is not checked (the emulators check none either), so the
 * local deployment tells principals apart but does not authenticate them.
 */
export function localCaller(
  req: IncomingMessage,
): { userArn: string; userId: string; accessKey: string } | undefined {
  const auth = req.headers.authorization ?? "";
  const key = /Credential=([^/,\s]+)\//.exec(auth)?.[1];
  if (!key) return undefined;
  return {
    accessKey: key,
    userArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${key}`,
    userId: `AIDALOCAL${key.toUpperCase().replace(/[^A-Z0-9]/g, "")}`,
  };
}

/** The event Lambda passes a function for a URL request (payload format 2.0, the parts used). */
export function urlEvent(
  req: IncomingMessage,
  body: string,
  caller: NonNullable<ReturnType<typeof localCaller>>,
): unknown {
  return {
    version: "2.0",
    rawPath: req.url ?? "/",
    headers: req.headers,
    isBase64Encoded: false,
    body,
    requestContext: {
      http: { method: req.method, path: req.url },
      authorizer: {
        iam: {
          accessKey: caller.accessKey,
          accountId: LOCAL_ACCOUNT_ID,
          callerId: caller.userId,
          userArn: caller.userArn,
          userId: caller.userId,
        },
      },
    },
  };
}

/** What a URL request gets back: the function's HTTP-shaped result, else its JSON with 200. */
export function urlReply(result: unknown): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const r = result as { statusCode?: unknown; headers?: unknown; body?: unknown } | null;
  if (r && typeof r.statusCode === "number") {
    const headers = (typeof r.headers === "object" && r.headers ? r.headers : {}) as Record<
      string,
      string
    >;
    return { status: r.statusCode, headers, body: typeof r.body === "string" ? r.body : "" };
  }
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(result),
  };
}
