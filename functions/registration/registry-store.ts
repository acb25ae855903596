import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { z } from "zod";
import { FerryError } from "#core/errors.ts";
import { mapLimit } from "./concurrency.ts";

/** Parallel S3 reads when listing; well under S3's per-prefix rate, enough for a fast listing. */
const READ_CONCURRENCY = 16;

/** JSON records in the bucket's registry: one object per endpoint, function, session, agent. */
export interface RecordStore {
  /** The record at `key`, or undefined when there is none. A corrupt record throws. */
  get<S extends z.ZodType>(key: string, schema: S): Promise<z.infer<S> | undefined>;
  /** The records at `keys` that exist and parse; corrupt ones are logged and skipped. */
  getMany<S extends z.ZodType>(keys: readonly string[], schema: S): Promise<z.infer<S>[]>;
  put(key: string, record: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key under `prefix`. */
  list(prefix: string): Promise<string[]>;
  /** One page (up to 1,000 keys, in key order) under `prefix` after the key `startAfter`. */
  listPage(prefix: string, startAfter: string): Promise<{ keys: string[]; truncated: boolean }>;
  /** Whether an object (not necessarily a record) exists at `key`. */
  exists(key: string): Promise<boolean>;
}

/** The bucket the registry lives in. */
interface RegistryBucket {
  s3: S3Client;
  bucket: string;
}

/** The registry's records in `bucket`, read and written through `s3`. */
export function createRecordStore(s3: S3Client, bucket: string): RecordStore {
  const at: RegistryBucket = { s3, bucket };
  return {
    get: (key, schema) => getRecord(at, key, schema),
    getMany: (keys, schema) => getRecords(at, keys, schema),
    put: (key, record) => putRecord(at, key, record),
    delete: (key) => deleteObject(at, key),
    list: (prefix) => listKeys(at, prefix),
    listPage: (prefix, startAfter) => listPage(at, prefix, startAfter),
    exists: (key) => objectExists(at, key),
  };
}

async function getRecord<S extends z.ZodType>(
  { s3, bucket }: RegistryBucket,
  key: string,
  schema: S,
): Promise<z.infer<S> | undefined> {
  let text: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await out.Body?.transformToString("utf8")) ?? "";
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new FerryError(`registry record ${key} is not JSON`, { cause });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FerryError(
      `registry record ${key} is invalid: ${issue?.path.join(".")}: ${issue?.message}`,
    );
  }
  return parsed.data as z.infer<S>;
}

async function getRecords<S extends z.ZodType>(
  at: RegistryBucket,
  keys: readonly string[],
  schema: S,
): Promise<z.infer<S>[]> {
  const records = await mapLimit(keys, READ_CONCURRENCY, async (key) => {
    try {
      return await getRecord(at, key, schema);
    } catch (error) {
      // One bad record must not hide every other endpoint or function from a listing.
      if (!(error instanceof FerryError)) throw error;
      console.error(JSON.stringify({ level: "warn", msg: error.message }));
      return undefined;
    }
  });
  return records.filter((r) => r !== undefined);
}

async function putRecord(
  { s3, bucket }: RegistryBucket,
  key: string,
  record: unknown,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(record),
      ContentType: "application/json",
    }),
  );
}

async function deleteObject({ s3, bucket }: RegistryBucket, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

async function listKeys({ s3, bucket }: RegistryBucket, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2(
    { client: s3 },
    { Bucket: bucket, Prefix: prefix },
  )) {
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
  }
  return keys;
}

async function listPage(
  { s3, bucket }: RegistryBucket,
  prefix: string,
  startAfter: string,
): Promise<{ keys: string[]; truncated: boolean }> {
  const out = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: startAfter }),
  );
  const keys = (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
  return { keys, truncated: out.IsTruncated === true };
}

async function objectExists({ s3, bucket }: RegistryBucket, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}
