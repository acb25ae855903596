// Request tallies -> dollars, line by line, with a price table.
import type { RequestCounter, RequestTally } from "../aws/index.ts";
import type { PriceTable } from "./prices.ts";
import type { RunRequests } from "./run-requests.ts";

/** AWS bills data and storage in binary gigabytes. */
const GB = 1024 ** 3;
const HOURS_PER_MONTH = 730;

/** S3 actions priced as PUT, COPY, POST or LIST requests; DELETE and abort are free. */
const S3_PUT_CLASS = new Set([
  "PutObject",
  "CopyObject",
  "CreateMultipartUpload",
  "UploadPart",
  "UploadPartCopy",
  "CompleteMultipartUpload",
  "ListObjects",
  "ListObjectsV2",
  "ListObjectVersions",
  "ListBuckets",
  "ListMultipartUploads",
  "ListParts",
  "CreateBucket",
]);
const S3_FREE = new Set(["DeleteObject", "DeleteObjects", "AbortMultipartUpload"]);
/** S3 actions that store bytes (what the storage estimate counts). */
const S3_UPLOADS = new Set(["PutObject", "UploadPart"]);

export interface CostLine {
  service: "SQS" | "S3" | "Lambda" | "Data transfer";
  kind: string;
  quantity: number;
  unit: string;
  dollars: number;
}

export interface CostEstimate {
  lines: CostLine[];
  totalDollars: number;
}

/** The whole run's bill: the client's and the collected agents' tallies together. */
export function estimateRun(run: RunRequests, prices: PriceTable): CostEstimate {
  return estimateCost(mergeTallies([run.client, ...run.agents.map((a) => a.tally)]), prices);
}

/** One tally priced: SQS by action, S3 by request class and storage, Lambda, transfer out. */
export function estimateCost(tally: RequestTally, prices: PriceTable): CostEstimate {
  const lines = [
    ...sqsLines(tally, prices),
    ...s3Lines(tally, prices),
    ...lambdaLines(tally, prices),
    transferLine(tally, prices),
  ].filter((l) => l.quantity > 0);
  return { lines, totalDollars: lines.reduce((a, l) => a + l.dollars, 0) };
}

function sqsLines(tally: RequestTally, prices: PriceTable): CostLine[] {
  return entries(tally, "sqs").map(([action, c]) => ({
    service: "SQS",
    kind: action,
    quantity: c.billed,
    unit: "requests (64 KiB chunks)",
    dollars: (c.billed / 1e6) * prices.sqs.standardPerMillionRequests,
  }));
}

function s3Lines(tally: RequestTally, prices: PriceTable): CostLine[] {
  let put = 0;
  let get = 0;
  let free = 0;
  let uploaded = 0;
  for (const [action, c] of entries(tally, "s3")) {
    if (S3_PUT_CLASS.has(action)) put += c.billed;
    else if (S3_FREE.has(action)) free += c.billed;
    else get += c.billed;
    if (S3_UPLOADS.has(action)) uploaded += c.bytesOut;
  }
  const gbMonths = (uploaded / GB) * (windowHours(tally) / HOURS_PER_MONTH);
  return [
    {
      service: "S3",
      kind: "PUT, COPY, POST, LIST",
      quantity: put,
      unit: "requests",
      dollars: (put / 1000) * prices.s3.putCopyPostListPerThousand,
    },
    {
      service: "S3",
      kind: "GET and others",
      quantity: get,
      unit: "requests",
      dollars: (get / 1000) * prices.s3.getAndOtherPerThousand,
    },
    { service: "S3", kind: "DELETE (free)", quantity: free, unit: "requests", dollars: 0 },
    {
      service: "S3",
      kind: "storage, all uploads kept for the run",
      quantity: gbMonths,
      unit: "GB-months",
      dollars: gbMonths * prices.s3.standardStoragePerGbMonth,
    },
  ];
}

function lambdaLines(tally: RequestTally, prices: PriceTable): CostLine[] {
  const counters = entries(tally, "lambda").map(([, c]) => c);
  const invokes = counters.reduce((a, c) => a + c.billed, 0);
  const gbSeconds =
    (counters.reduce((a, c) => a + c.durationMs, 0) / 1000) * (prices.lambda.memoryMb / 1024);
  return [
    {
      service: "Lambda",
      kind: "invocations",
      quantity: invokes,
      unit: "requests",
      dollars: (invokes / 1e6) * prices.lambda.perMillionRequests,
    },
    {
      service: "Lambda",
      kind: `compute at ${prices.lambda.memoryMb} MB (client-timed)`,
      quantity: gbSeconds,
      unit: "GB-seconds",
      dollars: gbSeconds * prices.lambda.perGbSecondX86,
    },
  ];
}

function transferLine(tally: RequestTally, prices: PriceTable): CostLine {
  const bytes = Object.values(tally.services)
    .flatMap((actions) => Object.values(actions ?? {}))
    .reduce((a, c) => a + c.bytesIn, 0);
  return {
    service: "Data transfer",
    kind: "out of AWS (responses)",
    quantity: bytes / GB,
    unit: "GB",
    dollars: (bytes / GB) * prices.transfer.outPerGb,
  };
}

/** Several tallies as one: counters added, the window from the first start to the last end. */
export function mergeTallies(tallies: RequestTally[]): RequestTally {
  const services: RequestTally["services"] = {};
  for (const tally of tallies) {
    for (const [service, actions] of Object.entries(tally.services) as [
      keyof RequestTally["services"],
      Record<string, RequestCounter>,
    ][]) {
      const into = services[service] ?? {};
      services[service] = into;
      for (const [action, c] of Object.entries(actions))
        into[action] = addCounters(into[action], c);
    }
  }
  const starts = tallies.map((t) => t.startedAt).sort();
  const ends = tallies.map((t) => t.endedAt).sort();
  const now = new Date().toISOString();
  return { v: 1, startedAt: starts[0] ?? now, endedAt: ends.at(-1) ?? now, services };
}

function addCounters(a: RequestCounter | undefined, b: RequestCounter): RequestCounter {
  if (!a) return { ...b };
  return {
    calls: a.calls + b.calls,
    billed: a.billed + b.billed,
    failed: a.failed + b.failed,
    bytesOut: a.bytesOut + b.bytesOut,
    bytesIn: a.bytesIn + b.bytesIn,
    durationMs: a.durationMs + b.durationMs,
  };
}

function entries(
  tally: RequestTally,
  service: keyof RequestTally["services"],
): [string, RequestCounter][] {
  return Object.entries(tally.services[service] ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

function windowHours(tally: RequestTally): number {
  return Math.max(0, Date.parse(tally.endedAt) - Date.parse(tally.startedAt)) / 3_600_000;
}
