import { createHash, randomFillSync, randomUUID } from "node:crypto";
import { open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { BenchContext, BenchOutput } from "./context.ts";
import { FUNCTIONS } from "./deployment.ts";
import { ratioRow } from "./report.ts";
import { medianStages, stagesOf } from "./stages.ts";
import { median } from "./stats.ts";

/** The targets: 1.3x at 10 MB and above; at 1 MB, where fixed costs dominate, 2x. */
const TARGET_RATIO = 1.3;
const SMALL_TARGET_RATIO = 2;
const SMALL_MB = 1;
const MB = 1_000_000;
const PART_BYTES = 8 * 1024 * 1024;

/** Topics of the bench whose values go by reference, one per backend. */
export const LARGE_TOPICS = { s3: "bench-s3", file: "bench-file" } as const;

/**
 * 3. Large objects: a task with N MB of bytes in and the same N MB out, through the s3 and the
 * file store (submit, run, result, value fetched), against the raw puts and gets of the same
 * bytes: S3 with lib-storage Upload + GetObject, files with writeFile + readFile; both ways.
 */
export async function benchLargeObjects(ctx: BenchContext): Promise<BenchOutput> {
  const sizesMb = ctx.quick ? [1, 10] : [1, 10, 100];
  const reps = (mb: number) => (ctx.quick ? 2 : mb >= 100 ? 3 : mb >= 10 ? 5 : 10);
  const { conn } = ctx.deployment;
  const rows = [];
  const details: Record<string, unknown> = {};
  for (const backend of ["s3", "file"] as const) {
    for (const mb of sizesMb) {
      const bytes = randomFillSync(new Uint8Array(mb * MB));
      const type = `${backend} ${mb} MB`;
      const raw = () =>
        backend === "s3"
          ? rawS3RoundTrip(conn.aws.s3, conn.deployment.bucketName, bytes)
          : rawFileRoundTrip(ctx.fileDir, bytes);
      // What the file store guarantees besides moving bytes: a writer that fsyncs and a
      // reader that checks a sha256. Shown beside the plain baseline, not instead of it.
      const careful = () => rawFileRoundTrip(ctx.fileDir, bytes, true);
      // One of each first: sockets, worker, page cache.
      await ferryRoundTrip(ctx, backend, bytes, type, false);
      await raw();
      const ferryMs: number[] = [];
      const rawMs: number[] = [];
      const carefulMs: number[] = [];
      for (let i = 0; i < reps(mb); i++) {
        ferryMs.push(await ferryRoundTrip(ctx, backend, bytes, type, true));
        rawMs.push(await raw());
        if (backend === "file") carefulMs.push(await careful());
      }
      ctx.log(
        `  ${type}: ferry ${median(ferryMs).toFixed(0)} ms, raw ${median(rawMs).toFixed(0)} ms`,
      );
      details[type] = {
        ferryMs,
        rawMs,
        ...(carefulMs.length > 0 ? { rawFsyncSha256Ms: carefulMs } : {}),
        ferryStagesMedianMs: medianStages(ctx.stages[type] ?? []),
      };
      if (carefulMs.length > 0) {
        rows.push(
          ratioRow({
            benchmark: "3",
            what: `${mb} MB in+out, file store vs fsync+sha256 (median)`,
            unit: "ms",
            ferry: median(ferryMs),
            baseline: median(carefulMs),
            baselineName: "same, with fsync + sha256",
            better: "lower",
          }),
        );
      }
      rows.push(
        ratioRow({
          benchmark: "3",
          what: `${mb} MB in+out, ${backend} store (median)`,
          unit: "ms",
          ferry: median(ferryMs),
          baseline: median(rawMs),
          baselineName: backend === "s3" ? "Upload+GetObject x2" : "writeFile+readFile x2",
          better: "lower",
          limit: mb <= SMALL_MB ? SMALL_TARGET_RATIO : TARGET_RATIO,
        }),
      );
    }
  }
  return { rows, details };
}

async function ferryRoundTrip(
  ctx: BenchContext,
  backend: "s3" | "file",
  bytes: Uint8Array,
  type: string,
  record: boolean,
): Promise<number> {
  const submittedAt = Date.now();
  const t0 = performance.now();
  const future = await ctx.executor.submit(FUNCTIONS.echo, bytes, {
    endpointId: ctx.endpointId,
    topic: LARGE_TOPICS[backend],
  });
  const result = await future.result;
  const fetched = performance.now();
  const value = await ctx.executor.value(result);
  const t1 = performance.now();
  if (!(value instanceof Uint8Array) || value.byteLength !== bytes.byteLength) {
    throw new Error(`${type}: the echo came back as ${describe(value)}`);
  }
  if (record) {
    ctx.samples.push({ type, timings: result.timings, fetchMs: t1 - fetched });
    const stages = stagesOf(result.timings, submittedAt, Date.now() - (t1 - fetched));
    const list = ctx.stages[type] ?? [];
    list.push({ ...stages, "value fetch": t1 - fetched });
    ctx.stages[type] = list;
  }
  return t1 - t0;
}

function describe(value: unknown): string {
  return value instanceof Uint8Array ? `${value.byteLength} bytes` : typeof value;
}

async function rawS3RoundTrip(s3: S3Client, bucket: string, bytes: Uint8Array) {
  const keys: string[] = [];
  const t0 = performance.now();
  for (let leg = 0; leg < 2; leg++) {
    const key = `tmp/bench-raw-${randomUUID()}`;
    keys.push(key);
    await new Upload({
      client: s3,
      partSize: PART_BYTES,
      queueSize: 4,
      params: { Bucket: bucket, Key: key, Body: bytes },
    }).done();
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const got = await out.Body?.transformToByteArray();
    if (got?.byteLength !== bytes.byteLength) throw new Error("raw S3 get returned other bytes");
  }
  const elapsed = performance.now() - t0;
  // Not timed: only so the in-memory emulator does not keep every copy.
  await Promise.all(keys.map((Key) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }))));
  return elapsed;
}

async function rawFileRoundTrip(dir: string, bytes: Uint8Array, careful = false) {
  const t0 = performance.now();
  for (let leg = 0; leg < 2; leg++) {
    const path = join(dir, `bench-raw-${randomUUID()}`);
    if (careful) {
      const sha = createHash("sha256").update(bytes).digest("hex");
      const handle = await open(path, "w");
      await handle.writeFile(bytes);
      await handle.sync();
      await handle.close();
      const got = await readFile(path);
      if (createHash("sha256").update(got).digest("hex") !== sha) throw new Error("sha256 differs");
    } else {
      await writeFile(path, bytes);
      const got = await readFile(path);
      if (got.byteLength !== bytes.byteLength)
        throw new Error("raw file read returned other bytes");
    }
    await rm(path);
  }
  return performance.now() - t0;
}
