import type { IncomingMessage } from "node:http";
import type { RealismService } from "./faults.ts";

/**
 * The AWS operation a request calls, named as the SDK names its command (without "Command"),
 * so `only` / `except` read like the code that makes the calls.
 */
export function operationOf(service: RealismService, req: IncomingMessage): string {
  const url = new URL(req.url ?? "/", "http://proxy");
  if (service === "sqs") return sqsOperation(req);
  if (service === "lambda") return lambdaOperation(req.method ?? "GET", url.pathname);
  return s3Operation(req.method ?? "GET", url, req.headers["x-amz-copy-source"] !== undefined);
}

/** AWS JSON 1.0: `X-Amz-Target: AmazonSQS.<Operation>`; anything else (query protocol) is opaque. */
function sqsOperation(req: IncomingMessage): string {
  const target = req.headers["x-amz-target"];
  const value = Array.isArray(target) ? target[0] : target;
  const match = value?.match(/^AmazonSQS\.(\w+)$/);
  return match?.[1] ?? "Unknown";
}

function lambdaOperation(method: string, path: string): string {
  if (method === "POST" && /^\/2015-03-31\/functions\/[^/]+\/invocations\/?$/.test(path)) {
    return "Invoke";
  }
  if (/^\/2015-03-31\/functions\/?$/.test(path)) {
    return method === "POST" ? "CreateFunction" : "ListFunctions";
  }
  if (method === "GET" && /^\/2015-03-31\/functions\/[^/]+\/?$/.test(path)) return "GetFunction";
  return "Unknown";
}

/** Path-style S3 (the clients use forcePathStyle against local endpoints): /bucket[/key]. */
function s3Operation(method: string, url: URL, copy: boolean): string {
  const [, bucket, ...keyParts] = url.pathname.split("/");
  const q = url.searchParams;
  if (!bucket) return method === "GET" ? "ListBuckets" : "Unknown";
  if (keyParts.join("/") === "") return s3BucketOperation(method, q);
  const upload = q.has("uploadId");
  switch (method) {
    case "PUT":
      if (upload && q.has("partNumber")) return copy ? "UploadPartCopy" : "UploadPart";
      return copy ? "CopyObject" : "PutObject";
    case "POST":
      if (q.has("uploads")) return "CreateMultipartUpload";
      return upload ? "CompleteMultipartUpload" : "Unknown";
    case "DELETE":
      return upload ? "AbortMultipartUpload" : "DeleteObject";
    case "GET":
      return upload ? "ListParts" : "GetObject";
    case "HEAD":
      return "HeadObject";
    default:
      return "Unknown";
  }
}

function s3BucketOperation(method: string, q: URLSearchParams): string {
  switch (method) {
    case "PUT":
      return "CreateBucket";
    case "HEAD":
      return "HeadBucket";
    case "DELETE":
      return "DeleteBucket";
    case "POST":
      return q.has("delete") ? "DeleteObjects" : "Unknown";
    case "GET":
      if (q.has("uploads")) return "ListMultipartUploads";
      return q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
    default:
      return "Unknown";
  }
}

/**
 * The queue an SQS JSON request names: QueueName for CreateQueue / GetQueueUrl, else the last
 * path segment of QueueUrl (batch calls name one QueueUrl too). Keyed by name, not URL, since
 * emulators and AWS spell the host differently but agree on the name.
 */
export function sqsQueueName(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { QueueName, QueueUrl } = body as { QueueName?: unknown; QueueUrl?: unknown };
  if (typeof QueueName === "string") return QueueName;
  if (typeof QueueUrl !== "string") return undefined;
  const path = QueueUrl.replace(/^[a-z]+:\/\/[^/]*/i, "");
  return path.split("/").filter(Boolean).pop();
}
