// The live log's costs and its offsets: no request for a task that ends within the first
// interval, writes only when output changed, one final record; and a reader that prints each
// byte once from successive records, across UTF-8 characters split between chunks.
import type { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveLog } from "#agent/live-log.ts";
import { Tail } from "#agent/tail.ts";
import { LogPrinter, unseenSuffix } from "#cli/log-printer.ts";
import { createLogger } from "#core/logger.ts";
import { LIVE_TAIL_BYTES, LiveLogRecord, type ResultMessage } from "#core/protocol/index.ts";
import { liveLogLocation } from "#core/store/index.ts";

const taskId = "01a230f8-93bc-74c5-a848-7135b2af5a92";
const sessionId = "01a230f8-93ae-7173-b31a-7cea50521ec9";
const endpointId = "01a230f8-9106-776f-a47f-3b00d1d2d760";

function fakeS3() {
  const records: LiveLogRecord[] = [];
  const keys: string[] = [];
  const send = vi.fn(async (command: PutObjectCommand) => {
    keys.push(String(command.input.Key));
    records.push(LiveLogRecord.parse(JSON.parse(String(command.input.Body))));
    return {};
  });
  return { s3: { send } as unknown as S3Client, send, records, keys };
}

function liveLog(s3: S3Client, attempt = 1, finalWriteMs?: number) {
  return new LiveLog({
    ...(finalWriteMs === undefined ? {} : { finalWriteMs }),
    s3,
    bucket: "bucket",
    key: liveLogLocation("AIDALOCALTEST", sessionId, taskId),
    taskId,
    sessionId,
    endpointId,
    attempt,
    intervalMs: 1_000,
    signal: new AbortController().signal,
    logger: createLogger({}, { level: "silent" }),
  });
}

function collector() {
  const out = { stdout: "", stderr: "" };
  const printer = new LogPrinter(taskId, false, {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
  });
  return { out, printer };
}

describe("LiveLog (agent side)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends nothing for a task that ends within the first interval", async () => {
    const { s3, send } = fakeS3();
    const live = liveLog(s3);
    live.start();
    live.write("stdout", Buffer.from("quick\n"));
    await vi.advanceTimersByTimeAsync(900);
    await live.end({ ok: true });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(send).not.toHaveBeenCalled();
  });

  it("writes under the owner's tmp/ part only when output changed, then one final record", async () => {
    const { s3, records, keys } = fakeS3();
    const live = liveLog(s3);
    live.start();
    live.write("stdout", Buffer.from("one\n"));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(records.map((r) => r.state)).toEqual(["running"]);
    // Quiet output: no writes, however long it runs.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(records).toHaveLength(1);
    live.write("stderr", Buffer.from("two\n"));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(records).toHaveLength(2);
    await live.end({
      ok: false,
      error: { type: "FunctionError", message: "boom", retriable: false },
    });
    expect(records.at(-1)).toMatchObject({
      state: "ended",
      ok: false,
      error: { type: "FunctionError", message: "boom" },
      stdout: { text: "one\n", end: 4 },
      stderr: { text: "two\n", end: 4 },
    });
    expect(new Set(keys)).toEqual(new Set([`tmp/AIDALOCALTEST/logs/${sessionId}/${taskId}.json`]));
    // Stopped: nothing more.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(records).toHaveLength(3);
  });

  it("a reader of its records prints every byte once, multi-byte characters split or not", async () => {
    const { s3, records } = fakeS3();
    const live = liveLog(s3);
    const { out, printer } = collector();
    live.start();
    const text = "π≈3.14159 — naïve café 🚀 done\n".repeat(3);
    const bytes = Buffer.from(text);
    // Chunks of 5 bytes: most characters above are split between two chunks.
    for (let i = 0; i < bytes.length; i += 5) {
      live.write("stdout", bytes.subarray(i, i + 5));
      await vi.advanceTimersByTimeAsync(1_000);
      const last = records.at(-1);
      if (last) printer.record(last);
    }
    await live.end({ ok: true });
    const final = records.at(-1);
    if (final) printer.record(final);
    expect(out.stdout).toBe(text);
    expect(out.stderr).toBe("");
  });

  it("past 64 KiB between two looks the reader says what it skipped and prints the tail", async () => {
    const { s3, records } = fakeS3();
    const live = liveLog(s3);
    const { out, printer } = collector();
    live.start();
    live.write("stdout", Buffer.from("head\n"));
    await vi.advanceTimersByTimeAsync(1_000);
    printer.record(records[0] as LiveLogRecord);
    live.write("stdout", Buffer.alloc(LIVE_TAIL_BYTES + 10, "x"));
    live.write("stdout", Buffer.from("tail\n"));
    await live.end({ ok: true });
    printer.record(records.at(-1) as LiveLogRecord);
    expect(out.stdout.startsWith("head\nxxx")).toBe(true);
    expect(out.stdout.endsWith("xxtail\n")).toBe(true);
    expect(out.stdout).toHaveLength(5 + LIVE_TAIL_BYTES);
    expect(out.stderr).toMatch(/^ferry: 15 bytes of stdout not shown/);
  });
});

describe("LiveLog with a store that hangs", () => {
  it("end() gives up after its budget: the result is not held back", async () => {
    const send = vi.fn(
      (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          options?.abortSignal?.addEventListener("abort", () =>
            reject(Object.assign(new Error("aborted"), { name: "AbortError" })),
          );
        }),
    );
    const live = liveLog({ send } as unknown as S3Client, 1, 50);
    live.start();
    live.write("stdout", Buffer.from("x\n"));
    // The first (periodic) write starts after the interval and never answers.
    await vi.waitFor(() => expect(send).toHaveBeenCalledTimes(1), { timeout: 3_000 });
    // Returns at all: the write it waits on never answers unless end() aborts it.
    await live.end({ ok: true });
    // The hanging write was cut short, and no final record was attempted over it.
    const signal = send.mock.calls[0]?.[1]?.abortSignal;
    expect(signal?.aborted).toBe(true);
    expect(send).toHaveBeenCalledTimes(1);
  });
});

describe("Tail", () => {
  it("keeps the last bytes when a large chunk is followed by a small one", () => {
    const tail = new Tail(8);
    tail.push("0123456789abcdefghij");
    tail.push("XY");
    expect(tail.text()).toBe("efghijXY");
    expect(tail.total).toBe(22);
    tail.push(Buffer.alloc(100, "z"));
    expect(tail.text()).toBe("zzzzzzzz");
  });
});

describe("LogPrinter (client side)", () => {
  const record = (attempt: number, text: string, end = Buffer.byteLength(text)): LiveLogRecord => ({
    v: 1,
    taskId,
    sessionId,
    endpointId,
    attempt,
    at: 1,
    state: "running",
    stdout: { text, end },
    stderr: { text: "", end: 0 },
  });

  it("a later attempt starts over; an earlier attempt's record is ignored", () => {
    const { out, printer } = collector();
    printer.record(record(1, "a1\n"));
    printer.record(record(2, "b1\n"));
    printer.record(record(1, "a1\na2\n"));
    printer.record(record(2, "b1\nb2\n"));
    expect(out.stdout).toBe("a1\nb1\nb2\n");
    expect(out.stderr).toMatch(/attempt 2 started the task over/);
  });

  it("without a final record, the result's tails add only what was not printed", () => {
    const { out, printer } = collector();
    printer.record(record(1, "one\ntwo\n"));
    const result = { stdoutTail: "two\nthree\n", stderrTail: "warn\n" } as ResultMessage;
    printer.result(result);
    expect(out.stdout).toBe("one\ntwo\nthree\n");
    expect(out.stderr).toBe("warn\n");
    expect(unseenSuffix("abc", "xyz")).toBe("xyz");
    expect(unseenSuffix("abc", "bcd")).toBe("d");
  });
});
