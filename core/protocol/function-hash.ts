import { createHash } from "node:crypto";

/**
 * The version hash of a `shell` function: sha256 of `{"kind":"shell","argv":[...]}` as
 * JSON.stringify writes it. It covers the whole argv template, so a changed command is a
 * different version; the registration function and every agent recompute it.
 */
export function shellFunctionSha256(argv: readonly string[]): string {
  return createHash("sha256")
    .update(JSON.stringify({ kind: "shell", argv }))
    .digest("hex");
}
