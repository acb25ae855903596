// The price table the cost estimate uses: a JSON file shipped beside this module (us-east-1
// list prices), or the user's own with the same shape.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ConfigError } from "../errors.ts";

const Price = z.number().nonnegative();
const Sourced = { source: z.url(), confirmed: z.string() };

export const PriceTable = z.object({
  region: z.string(),
  currency: z.string(),
  /** When the prices were last checked (YYYY-MM-DD). */
  checked: z.iso.date(),
  note: z.string().optional(),
  sqs: z.object({ standardPerMillionRequests: Price, ...Sourced }),
  s3: z.object({
    putCopyPostListPerThousand: Price,
    getAndOtherPerThousand: Price,
    standardStoragePerGbMonth: Price,
    ...Sourced,
  }),
  lambda: z.object({
    perMillionRequests: Price,
    perGbSecondX86: Price,
    /** The function's configured memory: GB-seconds are duration x this. */
    memoryMb: z.number().int().min(128).max(10_240),
    ...Sourced,
  }),
  transfer: z.object({ outPerGb: Price, ...Sourced }),
});
export type PriceTable = z.infer<typeof PriceTable>;

/** The shipped table's path (core/cost/prices-us-east-1.json). */
export const DEFAULT_PRICES_PATH = fileURLToPath(
  new URL("./prices-us-east-1.json", import.meta.url),
);

/** Reads and checks a price table; `path` unset: the shipped us-east-1 table. */
export async function loadPriceTable(path: string = DEFAULT_PRICES_PATH): Promise<PriceTable> {
  const hint = `copy ${DEFAULT_PRICES_PATH} and edit its numbers`;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new ConfigError(`cannot read the price table ${path}`, { cause, hint });
  }
  const parsed = PriceTable.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `price table ${path}: ${issue?.path.join(".") || "(top)"}: ${issue?.message ?? "invalid"}`,
      { hint },
    );
  }
  return parsed.data;
}
