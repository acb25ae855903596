import { z } from "zod";
import { Sha256 } from "./common.ts";

export const StoreRef = z.object({
  store: z.enum(["s3", "file", "redis"]),
  /**
   * s3: the object key in the store bucket; file: the path relative to the store directory;
   * redis: the key (less its `ferry:` prefix) on `server`.
   */
  location: z.string().min(1),
  /** redis only: the server's `host:port`, which a reader must have in its allow-list. */
  server: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "expected host:port")
    .optional(),
  size: z.number().int().nonnegative(),
  sha256: Sha256,
  /** json and msgpack encode a value; bytes: the object is the value (a lone Uint8Array). */
  codec: z.enum(["json", "msgpack", "bytes"]),
});
export type StoreRef = z.infer<typeof StoreRef>;

/** A value travelling inline in the message, or by reference through the proxy store. */
export const Payload = z.union([
  z.object({ inline: z.json() }).strict(),
  z.object({ ref: StoreRef }).strict(),
]);
export type Payload = z.infer<typeof Payload>;
