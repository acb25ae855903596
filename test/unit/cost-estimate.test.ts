// The pricing arithmetic: SQS's 64 KiB chunks (single and batch), S3's request classes and
// storage, Lambda's GB-seconds, data transfer, and the price table's checks.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  billedRequests,
  type RequestCounter,
  type RequestTally,
  sqsChunks,
} from "#core/aws/index.ts";
import {
  DEFAULT_PRICES_PATH,
  estimateCost,
  formatDollars,
  formatQuantity,
  loadPriceTable,
  mergeTallies,
} from "#core/cost/index.ts";
import { ConfigError } from "#core/errors.ts";

const KIB = 1024;
const GIB = 1024 ** 3;

function counter(partial: Partial<RequestCounter>): RequestCounter {
  const calls = partial.calls ?? partial.billed ?? 1;
  return { calls, billed: calls, failed: 0, bytesOut: 0, bytesIn: 0, durationMs: 0, ...partial };
}

function tally(services: RequestTally["services"], hours = 0): RequestTally {
  const start = Date.parse("2026-12-01T00:00:00Z");
  return {
    v: 1,
    startedAt: new Date(start).toISOString(),
    endedAt: new Date(start + hours * 3_600_000).toISOString(),
    services,
  };
}

const dollarsOf = (
  t: RequestTally,
  kind: string,
  prices: Awaited<ReturnType<typeof loadPriceTable>>,
) => estimateCost(t, prices).lines.find((l) => l.kind.startsWith(kind))?.dollars;

describe("SQS billing", () => {
  it("bills every started 64 KiB chunk, and an empty call as one", () => {
    expect(sqsChunks(0)).toBe(1);
    expect(sqsChunks(64 * KIB)).toBe(1);
    expect(sqsChunks(64 * KIB + 1)).toBe(2);
    expect(sqsChunks(256 * KIB)).toBe(4);
    expect(sqsChunks(1024 * KIB)).toBe(16);
  });

  it("sizes a send by body and attributes, a batch by its entries together", () => {
    const send = {
      MessageBody: "x".repeat(64 * KIB - 4),
      MessageAttributes: { ab: { DataType: "String", StringValue: "yy" } },
    };
    // 65,532 + "ab" + "String" + "yy" = 65,542 bytes: just over one chunk.
    expect(billedRequests("sqs", "SendMessage", send, {})).toBe(2);
    const entries = Array.from({ length: 10 }, () => ({ MessageBody: "z".repeat(10 * KIB) }));
    // Ten 10 KiB messages: 100 KiB together, two chunks, not ten requests.
    expect(billedRequests("sqs", "SendMessageBatch", { Entries: entries }, {})).toBe(2);
    expect(billedRequests("sqs", "SendMessageBatch", { Entries: entries.slice(0, 6) }, {})).toBe(1);
  });

  it("sizes a receive by the messages it returned; empty receives and deletes are one", () => {
    const messages = [{ Body: "m".repeat(100 * KIB) }, { Body: "n".repeat(60 * KIB) }];
    expect(billedRequests("sqs", "ReceiveMessage", {}, { Messages: messages })).toBe(3);
    expect(billedRequests("sqs", "ReceiveMessage", {}, {})).toBe(1);
    expect(billedRequests("sqs", "DeleteMessageBatch", { Entries: [{}, {}] }, {})).toBe(1);
    expect(billedRequests("s3", "PutObject", {}, {})).toBe(1);
  });
});

describe("estimateCost", () => {
  it("prices a million SQS requests at the table's rate", async () => {
    const prices = await loadPriceTable();
    const t = tally({ sqs: { SendMessageBatch: counter({ calls: 400_000, billed: 1_000_000 }) } });
    expect(dollarsOf(t, "SendMessageBatch", prices)).toBeCloseTo(
      prices.sqs.standardPerMillionRequests,
      10,
    );
  });

  it("puts S3 requests in their classes, DELETE free, and storage over the window", async () => {
    const prices = await loadPriceTable();
    const t = tally(
      {
        s3: {
          PutObject: counter({ calls: 600, bytesOut: GIB }),
          UploadPart: counter({ calls: 400, bytesOut: GIB }),
          GetObject: counter({ calls: 2_000 }),
          HeadObject: counter({ calls: 500 }),
          DeleteObject: counter({ calls: 1_000 }),
        },
      },
      73, // a tenth of a month
    );
    const est = estimateCost(t, prices);
    const line = (kind: string) => est.lines.find((l) => l.kind.startsWith(kind));
    expect(line("PUT")).toMatchObject({ quantity: 1_000 });
    expect(line("PUT")?.dollars).toBeCloseTo(prices.s3.putCopyPostListPerThousand, 10);
    expect(line("GET")?.quantity).toBe(2_500);
    expect(line("GET")?.dollars).toBeCloseTo(2.5 * prices.s3.getAndOtherPerThousand, 10);
    expect(line("DELETE")).toMatchObject({ quantity: 1_000, dollars: 0 });
    expect(line("storage")?.quantity).toBeCloseTo(0.2, 10); // 2 GiB for 0.1 month
    expect(line("storage")?.dollars).toBeCloseTo(0.2 * prices.s3.standardStoragePerGbMonth, 10);
  });

  it("bills Lambda GB-seconds as duration times the configured memory", async () => {
    const prices = await loadPriceTable();
    // 1,000 calls of 100 ms at 256 MB: 100 s x 0.25 GB = 25 GB-s.
    const t = tally({
      lambda: { InvokeFunctionUrl: counter({ calls: 1_000, durationMs: 100_000 }) },
    });
    const est = estimateCost(t, prices);
    const compute = est.lines.find((l) => l.unit === "GB-seconds");
    expect(compute?.quantity).toBeCloseTo(25 * (prices.lambda.memoryMb / 256), 10);
    expect(compute?.dollars).toBeCloseTo(25 * prices.lambda.perGbSecondX86, 12);
    expect(dollarsOf(t, "invocations", prices)).toBeCloseTo(
      prices.lambda.perMillionRequests / 1_000,
      12,
    );
  });

  it("bills every byte AWS answered with as data transfer out", async () => {
    const prices = await loadPriceTable();
    const t = tally({
      s3: { GetObject: counter({ bytesIn: GIB / 2 }) },
      sqs: { ReceiveMessage: counter({ bytesIn: GIB / 2 }) },
    });
    expect(dollarsOf(t, "out of AWS", prices)).toBeCloseTo(prices.transfer.outPerGb, 10);
    const total = estimateCost(t, prices);
    expect(total.totalDollars).toBeCloseTo(
      total.lines.reduce((a, l) => a + l.dollars, 0),
      12,
    );
  });

  it("merges tallies by adding counters over the widest window", () => {
    const a = tally({ sqs: { ReceiveMessage: counter({ calls: 3, bytesIn: 10 }) } }, 1);
    const b = { ...tally({ sqs: { ReceiveMessage: counter({ calls: 2 }) } }, 2) };
    const merged = mergeTallies([a, b]);
    expect(merged.services.sqs?.ReceiveMessage).toMatchObject({ calls: 5, billed: 5, bytesIn: 10 });
    expect(merged.endedAt).toBe(b.endedAt);
  });
});

describe("the price table", () => {
  it("names each price's source and the date checked", async () => {
    const prices = await loadPriceTable();
    expect(prices.region).toBe("us-east-1");
    expect(prices.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const s of [prices.sqs, prices.s3, prices.lambda, prices.transfer])
      expect(s.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  it("uses the registration function's memory as the stack deploys it", async () => {
    const prices = await loadPriceTable();
    const infra = await readFile(
      new URL("../../infra/registration-function.ts", import.meta.url),
      "utf8",
    );
    expect(infra).toContain(`memorySize: ${prices.lambda.memoryMb},`);
  });

  it("refuses a malformed table with the field and what to do", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-prices-"));
    const bad = JSON.parse(await readFile(DEFAULT_PRICES_PATH, "utf8"));
    bad.sqs.standardPerMillionRequests = -1;
    const path = join(dir, "prices.json");
    await writeFile(path, JSON.stringify(bad));
    const error = await loadPriceTable(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain("sqs.standardPerMillionRequests");
    expect((error as ConfigError).hint).toContain("copy");
    await expect(loadPriceTable(join(dir, "missing.json"))).rejects.toThrow(/cannot read/);
  });
});

describe("formatDollars and formatQuantity", () => {
  it("keep fractions of a cent readable, never in exponent notation", () => {
    expect(formatQuantity(4.62e-8)).toBe("0.00000004620");
    expect(formatQuantity(1.4213)).toBe("1.421");
    expect(formatQuantity(99)).toBe("99");
    expect(formatDollars(0)).toBe("$0");
    expect(formatDollars(0.000123456)).toBe("$0.000123");
    expect(formatDollars(2.45e-7)).toBe("$0.000000245");
    expect(formatDollars(0.5)).toBe("$0.500");
    expect(formatDollars(12.345)).toBe("$12.35");
  });
});
